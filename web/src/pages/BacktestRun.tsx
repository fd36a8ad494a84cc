// One run: progress while it runs; then its tearsheet: equity, drawdown and exposure,
// the metrics, the trades, and the trades as markers on a symbol's prices.

import { useEffect, useMemo, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { request } from "../api/client";
import { loadBars } from "../api/market";
import type { BacktestDetail, BarRow, EquityRow, Page, TradeRow } from "../api/types";
import { DataTable } from "../components/DataTable";
import { LineChart } from "../components/LineChart";
import { PriceChart } from "../components/PriceChart";
import { JobProgress, Loading, ProblemNote } from "../components/Problem";
import { metric, number, percent, when } from "../lib/format";
import { drawdown, equity, exposure, tradeMarkers } from "../lib/series";
import { useApi } from "../lib/useApi";

export default function BacktestRun() {
  const { runId = "" } = useParams();
  const [done, setDone] = useState(false);
  const run = useApi<BacktestDetail>(`/api/v1/backtests/${runId}`, done ? undefined : 1000);
  const status = run.data?.status;
  useEffect(() => { if (status === "succeeded" || status === "failed") setDone(true); }, [status]);
  const ok = status === "succeeded";
  const curve = useApi<Page<EquityRow>>(ok ? `/api/v1/backtests/${runId}/frames/equity` : null);
  const trades = useApi<Page<TradeRow>>(ok ? `/api/v1/backtests/${runId}/frames/trades` : null);

  if (!run.data) return run.error ? <ProblemNote error={run.error} /> : <Loading what="the run" />;
  const detail = run.data;
  return (
    <section aria-labelledby="run-title">
      <p>
        <Link to="/backtests">← Backtests</Link>
      </p>
      <h1 id="run-title">
        {detail.name ?? detail.strategy} <small className="muted">{detail.id}</small>
      </h1>
      <p className="muted">
        {detail.strategy} {JSON.stringify(detail.parameters)} on {detail.symbols.join(", ")},{" "}
        {when(detail.start_at)} to {when(detail.end_at)}
      </p>
      {!ok && (
        <p role="status">
          <JobProgress status={detail.status} progress={detail.progress} />
        </p>
      )}
      {detail.error && <div className="problem" role="alert">{detail.error}</div>}
      <ProblemNote error={curve.error ?? trades.error} />
      {ok && (
        <>
          <div className="toolbar">
            <button type="button" onClick={() => void download(detail.id)}>
              Download the HTML tearsheet
            </button>
          </div>
          <Metrics metrics={detail.metrics} />
          {curve.data && <Curves rows={curve.data.rows} />}
          {trades.data && <TradesOnPrices runSymbols={detail.symbols} trades={trades.data.rows} timeframe={typeof detail.spec?.timeframe === "string" ? detail.spec.timeframe : "1m"} start={detail.start_at} end={detail.end_at} />}
          {trades.data && <Trades trades={trades.data.rows} />}
        </>
      )}
    </section>
  );
}

function Curves({ rows }: { rows: EquityRow[] }) {
  const lines = useMemo(
    () => ({
      equity: [{ name: "equity", points: equity(rows) }],
      drawdown: [{ name: "drawdown", points: drawdown(rows) }],
      exposure: [{ name: "exposure", points: exposure(rows) }],
    }),
    [rows],
  );
  return (
    <div className="charts">
      <LineChart label="Equity" lines={lines.equity} height={260} />
      <LineChart label="Drawdown" lines={lines.drawdown} area percent />
      <LineChart label="Gross exposure / equity" lines={lines.exposure} percent />
    </div>
  );
}

async function download(id: string): Promise<void> {
  const response = await request(`/api/v1/backtests/${id}/report`, { accept: "text/html" });
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = `tearsheet-${id}.html`;
  link.click();
  URL.revokeObjectURL(url);
}

export function Metrics({ metrics }: { metrics: Record<string, unknown> }) {
  const shown = Object.entries(metrics).filter(([k]) => !["id", "result_hash", "start", "end"].includes(k));
  return (
    <dl className="metrics" aria-label="Metrics">
      {shown.map(([name, value]) => (
        <div key={name}>
          <dt>{name.replaceAll("_", " ")}</dt>
          <dd>{metric(name, value)}</dd>
        </div>
      ))}
    </dl>
  );
}

interface TradesOnPricesProps {
  runSymbols: string[];
  trades: TradeRow[];
  timeframe: string;
  start: string | null;
  end: string | null;
}

function TradesOnPrices({ runSymbols, trades, timeframe, start, end }: TradesOnPricesProps) {
  const [symbol, setSymbol] = useState(runSymbols[0] ?? "");
  const [bars, setBars] = useState<BarRow[]>();
  const markers = useMemo(() => tradeMarkers(trades, symbol), [trades, symbol]);
  useEffect(() => {
    let current = true;
    loadBars({ symbol, timeframe, start: start ?? undefined, end: end ?? undefined })
      .then((b) => { if (current) setBars(b); })
      .catch(() => { if (current) setBars([]); });
    return () => { current = false; };
  }, [symbol, timeframe, start, end]);
  return (
    <figure className="figure">
      <figcaption>
        Trades on{" "}
        <select aria-label="Symbol" value={symbol} onChange={(e) => { setSymbol(e.target.value); }}>
          {runSymbols.map((s) => <option key={s}>{s}</option>)}
        </select>
      </figcaption>
      {bars && bars.length > 0 && (
        <PriceChart label={`${symbol} prices with the run's trades`} bars={bars} markers={markers} height={360} />
      )}
    </figure>
  );
}

function Trades({ trades }: { trades: TradeRow[] }) {
  return (
    <DataTable
      caption={`Trades (${trades.length})`}
      rows={trades}
      limit={100}
      rowKey={(t) => `${t.symbol}-${t.entry_ts}-${t.exit_ts}`}
      columns={[
        { key: "symbol", label: "Symbol", render: (t) => t.symbol },
        { key: "side", label: "Side", render: (t) => (t.side > 0 ? "long" : "short") },
        { key: "entry", label: "Entry (UTC)", render: (t) => when(t.entry_ts) },
        { key: "exit", label: "Exit (UTC)", render: (t) => when(t.exit_ts) },
        { key: "qty", label: "Quantity", numeric: true, render: (t) => number(t.quantity, 0) },
        { key: "in", label: "Entry price", numeric: true, render: (t) => number(t.entry_price) },
        { key: "out", label: "Exit price", numeric: true, render: (t) => number(t.exit_price) },
        { key: "pnl", label: "P&L", numeric: true, render: (t) => number(t.pnl) },
        { key: "ret", label: "Return", numeric: true, render: (t) => percent(t.return) },
      ]}
    />
  );
}
