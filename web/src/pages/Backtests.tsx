// Backtests: recorded runs with their key metrics, a filter, a form to start one, and
// a selection to compare side by side.

import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import type { BacktestSummary, StrategyInfo } from "../api/types";
import { query } from "../api/client";
import { DataTable } from "../components/DataTable";
import { JobProgress, Loading, ProblemNote } from "../components/Problem";
import { integer, number, percent, when } from "../lib/format";
import { useApi } from "../lib/useApi";
import { useSession } from "../auth/session";
import { NewBacktest } from "./NewBacktest";
import { Sweeps } from "./Sweeps";

export default function Backtests() {
  const [strategy, setStrategy] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const runs = useApi<BacktestSummary[]>(`/api/v1/backtests${query({ limit: 200, strategy })}`, 3000);
  const strategies = useApi<StrategyInfo[]>("/api/v1/backtests/strategies");
  const { canTrade } = useSession();
  const navigate = useNavigate();

  const toggle = (id: string) => {
    setChosen((now) => (now.includes(id) ? now.filter((x) => x !== id) : [...now, id]));
  };
  return (
    <section aria-labelledby="backtests-title">
      <h1 id="backtests-title">Backtests</h1>
      <ProblemNote error={runs.error ?? strategies.error} />
      <div className="toolbar">
        <label>
          Strategy
          <select value={strategy} onChange={(e) => { setStrategy(e.target.value); }}>
            <option value="">all</option>
            {(strategies.data ?? []).map((s) => <option key={s.name}>{s.name}</option>)}
          </select>
        </label>
        <button
          type="button"
          disabled={chosen.length < 2}
          onClick={() => { void navigate(`/backtests/compare?runs=${chosen.join(",")}`); }}
        >
          Compare {chosen.length > 0 ? chosen.length : ""} selected
        </button>
      </div>
      {runs.loading && !runs.data && <Loading what="the runs" />}
      <DataTable
        caption="Recorded runs, newest first"
        rows={runs.data ?? []}
        rowKey={(r) => r.id}
        empty="No backtest yet: start one below, or run cift demo."
        columns={[
          {
            key: "pick",
            label: "Compare",
            render: (r) => (
              <input
                type="checkbox"
                aria-label={`Compare ${r.name ?? r.strategy} ${r.id.slice(0, 8)}`}
                checked={chosen.includes(r.id)}
                onChange={() => { toggle(r.id); }}
                disabled={r.status !== "succeeded"}
              />
            ),
          },
          { key: "name", label: "Run", render: (r) => <Link to={`/backtests/${r.id}`}>{r.name ?? r.strategy}</Link> },
          { key: "strategy", label: "Strategy", render: (r) => r.strategy },
          { key: "symbols", label: "Symbols", render: (r) => r.symbols.join(", ") },
          { key: "status", label: "Status", render: (r) => <JobProgress status={r.status} progress={r.progress} /> },
          { key: "return", label: "Return", numeric: true, render: (r) => percent(r.metrics.total_return) },
          { key: "sharpe", label: "Sharpe", numeric: true, render: (r) => number(r.metrics.sharpe) },
          { key: "dd", label: "Max drawdown", numeric: true, render: (r) => percent(r.metrics.max_drawdown) },
          { key: "trades", label: "Trades", numeric: true, render: (r) => integer(r.metrics.trades) },
          { key: "created", label: "Created (UTC)", render: (r) => when(r.created_at) },
        ]}
      />
      <Sweeps />
      {canTrade && strategies.data && (
        <NewBacktest strategies={strategies.data} onStarted={runs.reload} />
      )}
    </section>
  );
}
