// Recorded parameter sweeps (cift backtest sweep), each as a heat map of a metric over
// two of its parameters, with the best trial's deflated Sharpe ratio.

import { useState } from "react";
import { DataTable, ScrollRegion } from "../components/DataTable";
import { ProblemNote } from "../components/Problem";
import { metric, number, when } from "../lib/format";
import { useApi } from "../lib/useApi";
import type { SweepDetail, SweepSummary } from "../api/types";

type Trial = SweepDetail["trials"][number] & { params: Record<string, number> };

const METRICS = ["sharpe", "total_return", "annual_return", "max_drawdown"];

export function Sweeps() {
  const sweeps = useApi<SweepSummary[]>("/api/v1/backtests/sweeps");
  const [chosen, setChosen] = useState<string>();
  const id = chosen ?? sweeps.data?.[0]?.id;
  return (
    <>
      <ProblemNote error={sweeps.error} />
      <DataTable
        caption="Parameter sweeps (cift backtest sweep), newest first"
        rows={sweeps.data ?? []}
        rowKey={(s) => s.id}
        empty="No sweep recorded yet: run cift backtest sweep."
        columns={[
          {
            key: "when",
            label: "Recorded (UTC)",
            render: (s) => (
              <button type="button" className="link" aria-pressed={s.id === id} onClick={() => { setChosen(s.id); }}>
                {when(s.created_at)}
              </button>
            ),
          },
          { key: "strategy", label: "Strategy", render: (s) => s.strategy },
          { key: "symbols", label: "Symbols", render: (s) => s.symbols.join(", ") },
          { key: "axes", label: "Parameters", render: (s) => s.axes.join(" × ") },
          { key: "n", label: "Trials", numeric: true, render: (s) => s.evaluated },
        ]}
      />
      {id && <HeatMapOf id={id} />}
    </>
  );
}

function HeatMapOf({ id }: { id: string }) {
  const sweep = useApi<SweepDetail>(`/api/v1/backtests/sweeps/${id}`);
  const [name, setName] = useState("sharpe");
  if (!sweep.data) return <ProblemNote error={sweep.error} />;
  const { axes, deflated_sharpe: dsr } = sweep.data;
  const trials = sweep.data.trials as Trial[];
  const [x = "", y] = axes;
  return (
    <figure className="figure">
      <figcaption>
        <label className="inline">
          Heat map of
          <select value={name} onChange={(e) => { setName(e.target.value); }}>
            {METRICS.map((m) => <option key={m}>{m}</option>)}
          </select>
        </label>{" "}
        {dsr && (
          <span className="muted small">
            best trial's deflated Sharpe ratio {number(dsr.deflated, 3)} (
            {dsr.overfit === true ? "likely overfit" : "survives the search"})
          </span>
        )}
      </figcaption>
      <HeatMap trials={trials} x={x} y={y} metric={name} />
    </figure>
  );
}

/** Distinct values of a parameter, ascending. */
export function levels(trials: Trial[], axis: string | undefined): number[] {
  if (!axis) return [0];
  return [...new Set(trials.map((t) => t.params[axis] ?? Number.NaN))].sort((a, b) => a - b);
}

/** A colour from red (lowest) to green (highest) for ``value`` within ``[low, high]``;
 * every metric offered reads better higher (drawdowns are negative). */
export function shade(value: number, low: number, high: number): string {
  const share = high > low ? (value - low) / (high - low) : 0.5;
  return `hsl(${String(Math.round(share * 120))} 60% 42%)`;
}

function HeatMap({ trials, x, y, metric: name }: { trials: Trial[]; x: string; y: string | undefined; metric: string }) {
  const columns = levels(trials, x);
  const rows = levels(trials, y);
  const cell = (xv: number, yv: number) =>
    trials.find((t) => t.params[x] === xv && (!y || t.params[y] === yv))?.[name];
  const values = trials.map((t) => t[name]).filter((v): v is number => typeof v === "number");
  const low = Math.min(...values);
  const high = Math.max(...values);
  return (
    <ScrollRegion label="Heat map">
      <table className="heatmap">
        <caption>
          {name} by {x}
          {y ? ` (across) and ${y} (down)` : ""}
        </caption>
        <thead>
          <tr>
            <th scope="col">{y ? `${y} \\ ${x}` : x}</th>
            {columns.map((c) => <th key={c} scope="col" className="num">{c}</th>)}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r}>
              <th scope="row">{y ? r : ""}</th>
              {columns.map((c) => {
                const value = cell(c, r);
                const shown = typeof value === "number";
                return (
                  <td
                    key={c}
                    className="num"
                    style={shown ? { background: shade(value, low, high), color: "#fff" } : undefined}
                    title={`${x}=${String(c)}${y ? `, ${y}=${String(r)}` : ""}: ${shown ? metric(name, value) : "not evaluated"}`}
                  >
                    {shown ? metric(name, value) : "—"}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}
