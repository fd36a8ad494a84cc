// Start a backtest: a strategy with its parameters (from its JSON Schema), symbols,
// range and costs; it runs as a job whose page shows its progress.

import { useState } from "react";
import { submitted, text } from "../lib/forms";
import type { Submit } from "../lib/forms";
import { useNavigate } from "react-router-dom";
import { api } from "../api/client";
import type { ApiError } from "../api/client";
import type { BacktestDetail, BacktestRequest, StrategyInfo } from "../api/types";
import { ProblemNote } from "../components/Problem";
import { asApiError } from "../lib/useApi";

interface Property {
  type?: string;
  default?: unknown;
  description?: string;
  title?: string;
}

function properties(strategy: StrategyInfo | undefined): [string, Property][] {
  const props = (strategy?.params.properties ?? {}) as Record<string, Property>;
  return Object.entries(props).filter(([, p]) => ["integer", "number", "boolean"].includes(p.type ?? ""));
}

export function NewBacktest({ strategies, onStarted }: { strategies: StrategyInfo[]; onStarted: () => void }) {
  const [name, setName] = useState(strategies[0]?.name ?? "");
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const navigate = useNavigate();
  const strategy = strategies.find((s) => s.name === name);

  const submit = (event: Submit) => {
    const form = submitted(event);
    const params: Record<string, unknown> = {};
    for (const [key, prop] of properties(strategy)) {
      const raw = text(form, `param-${key}`);
      if (prop.type === "boolean") params[key] = raw === "on";
      else if (raw !== "") params[key] = Number(raw);
    }
    const optional = (field: string) => text(form, field) || null;
    const body: BacktestRequest = {
      strategy: name,
      params,
      symbols: text(form, "symbols").split(",").map((s) => s.trim().toUpperCase()).filter(Boolean),
      timeframe: optional("timeframe") ?? "1m",
      start: optional("start"),
      end: optional("end"),
      name: optional("name"),
      config: {
        commission: { model: "bps", bps: Number(text(form, "commission")) },
        slippage: { model: "fixed_bps", bps: Number(text(form, "slippage")) },
      },
    };
    setBusy(true);
    setError(undefined);
    api<BacktestDetail>("/api/v1/backtests", { method: "POST", body })
      .then((run) => {
        onStarted();
        void navigate(`/backtests/${run.id}`);
      })
      .catch((caught: unknown) => { setError(asApiError(caught)); })
      .finally(() => { setBusy(false); });
  };

  return (
    <form className="card form-grid" onSubmit={submit} aria-labelledby="new-backtest">
      <h2 id="new-backtest">New backtest</h2>
      <label>
        Strategy
        <select name="strategy" value={name} onChange={(e) => { setName(e.target.value); }}>
          {strategies.map((s) => <option key={s.name}>{s.name}</option>)}
        </select>
      </label>
      <p className="muted small span">{strategy?.description}</p>
      {properties(strategy).map(([key, prop]) => (
        <label key={`${name}-${key}`} title={prop.description}>
          {prop.title ?? key}
          {prop.type === "boolean" ? (
            <input type="checkbox" name={`param-${key}`} defaultChecked={prop.default === true} />
          ) : (
            <input
              name={`param-${key}`}
              type="number"
              step={prop.type === "integer" ? 1 : "any"}
              defaultValue={typeof prop.default === "number" ? prop.default : undefined}
            />
          )}
        </label>
      ))}
      <label>
        Symbols
        <input name="symbols" defaultValue="AAPL,MSFT" required />
      </label>
      <label>
        Timeframe
        <input name="timeframe" defaultValue="1m" />
      </label>
      <label>
        Start (YYYY-MM-DD)
        <input name="start" type="date" />
      </label>
      <label>
        End (inclusive)
        <input name="end" type="date" />
      </label>
      <label>
        Commission (bps)
        <input name="commission" type="number" step="any" min={0} defaultValue={1} />
      </label>
      <label>
        Slippage (bps)
        <input name="slippage" type="number" step="any" min={0} defaultValue={1} />
      </label>
      <label>
        Name
        <input name="name" placeholder="optional" />
      </label>
      <ProblemNote error={error} />
      <button type="submit" disabled={busy}>
        {busy ? "Starting…" : "Run backtest"}
      </button>
    </form>
  );
}
