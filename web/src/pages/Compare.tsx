// Runs side by side: equity rebased to 1, drawdowns, and the metrics in one table.

import { useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api } from "../api/client";
import type { ApiError } from "../api/client";
import type { BacktestDetail, EquityRow, Page } from "../api/types";
import { ScrollRegion } from "../components/DataTable";
import { LineChart } from "../components/LineChart";
import { Loading, ProblemNote } from "../components/Problem";
import { metric } from "../lib/format";
import { drawdown, rebased } from "../lib/series";
import { asApiError } from "../lib/useApi";

interface Loaded {
  run: BacktestDetail;
  curve: EquityRow[];
}

const ROWS = ["total_return", "annual_return", "annual_volatility", "sharpe", "sortino", "calmar", "max_drawdown", "exposure", "turnover", "trades", "hit_rate", "profit_factor", "commission"];

function label(l: Loaded): string {
  return `${l.run.name ?? l.run.strategy} ${l.run.id.slice(-6)}`;
}

export default function Compare() {
  const [search] = useSearchParams();
  const ids = (search.get("runs") ?? "").split(",").filter(Boolean);
  const [runs, setRuns] = useState<Loaded[]>();
  const [error, setError] = useState<ApiError>();
  const key = ids.join(",");

  useEffect(() => {
    let current = true;
    Promise.all(
      key.split(",").filter(Boolean).map(async (id) => ({
        run: await api<BacktestDetail>(`/api/v1/backtests/${id}`),
        curve: (await api<Page<EquityRow>>(`/api/v1/backtests/${id}/frames/equity`)).rows,
      })),
    )
      .then((loaded) => { if (current) setRuns(loaded); })
      .catch((caught: unknown) => { if (current) setError(asApiError(caught)); });
    return () => { current = false; };
  }, [key]);

  const lines = useMemo(
    () =>
      runs && {
        equity: runs.map((l) => ({ name: label(l), points: rebased(l.curve) })),
        drawdown: runs.map((l) => ({ name: label(l), points: drawdown(l.curve) })),
      },
    [runs],
  );
  return (
    <section aria-labelledby="compare-title">
      <p>
        <Link to="/backtests">← Backtests</Link>
      </p>
      <h1 id="compare-title">Compare {ids.length} runs</h1>
      <ProblemNote error={error} />
      {!runs && !error && <Loading what="the runs" />}
      {runs && lines && (
        <>
          <div className="charts">
            <LineChart label="Equity, rebased to 1" lines={lines.equity} height={280} />
            <LineChart label="Drawdown" lines={lines.drawdown} percent />
          </div>
          <ScrollRegion label="Metrics side by side">
            <table>
              <caption>Metrics side by side</caption>
              <thead>
                <tr>
                  <th scope="col">metric</th>
                  {runs.map((l) => <th key={l.run.id} scope="col" className="num">{label(l)}</th>)}
                </tr>
              </thead>
              <tbody>
                {ROWS.map((name) => (
                  <tr key={name}>
                    <th scope="row">{name.replaceAll("_", " ")}</th>
                    {runs.map((l) => <td key={l.run.id} className="num">{metric(name, l.run.metrics[name])}</td>)}
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollRegion>
        </>
      )}
    </section>
  );
}
