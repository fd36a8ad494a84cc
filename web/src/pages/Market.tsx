// Market: any stored symbol and timeframe as candles and volume, catalog features over
// the prices or in panes, live bars while a stream runs.

import { useEffect, useState } from "react";
import type { Submit } from "../lib/forms";
import { loadBars, loadFeatures } from "../api/market";
import type { BarRow, CoverageRow, FeatureInfo } from "../api/types";
import type { ApiError } from "../api/client";
import { PriceChart } from "../components/PriceChart";
import { Loading, ProblemNote } from "../components/Problem";
import { calls, chartable, defaults, indicator } from "../lib/features";
import type { Indicator } from "../lib/features";
import { integer, when } from "../lib/format";
import { asApiError, useApi } from "../lib/useApi";

export default function Market() {
  const coverage = useApi<CoverageRow[]>("/api/v1/market/coverage?kind=bars");
  const catalog = useApi<FeatureInfo[]>("/api/v1/features");
  const rows = coverage.data ?? [];
  const symbols = [...new Set(rows.map((r) => r.symbol))].sort();
  const [symbol, setSymbol] = useState("");
  const [timeframe, setTimeframe] = useState("");
  const [indicators, setIndicators] = useState<Indicator[]>([]);
  const [live, setLive] = useState(false);
  const chosen = symbol || symbols[0] || "";
  const timeframes = rows.filter((r) => r.symbol === chosen).map((r) => r.timeframe ?? "1m");
  const frame = timeframes.includes(timeframe) ? timeframe : (timeframes[0] ?? "");
  const stored = rows.find((r) => r.symbol === chosen && (r.timeframe ?? "1m") === frame);

  const { bars, values, error, loading } = useChartData(chosen, frame, indicators);
  const [drawn, setDrawn] = useState<number>();

  if (coverage.loading && !coverage.data) return <Loading what="what is stored" />;
  return (
    <section aria-labelledby="market-title">
      <h1 id="market-title">Market</h1>
      <ProblemNote error={coverage.error ?? catalog.error ?? error} />
      {symbols.length === 0 && !coverage.error && (
        <p>No bars are stored yet: run <code>cift demo</code> or <code>cift data import FILE</code>.</p>
      )}
      <div className="toolbar">
        <label>
          Symbol
          <input list="symbols" value={chosen} onChange={(e) => { setSymbol(e.target.value.toUpperCase()); }} />
          <datalist id="symbols">
            {symbols.map((s) => <option key={s} value={s} />)}
          </datalist>
        </label>
        <label>
          Timeframe
          <select value={frame} onChange={(e) => { setTimeframe(e.target.value); }}>
            {timeframes.map((t) => <option key={t}>{t}</option>)}
          </select>
        </label>
        <label className="inline">
          <input type="checkbox" checked={live} onChange={(e) => { setLive(e.target.checked); }} disabled={frame !== "1m"} />
          Live bars
        </label>
        {stored && (
          <span className="muted small">
            {integer(stored.rows)} bars, {when(stored.first)} to {when(stored.last)} UTC
            {drawn !== undefined && `, drawn in ${drawn.toFixed(0)} ms`}
          </span>
        )}
      </div>
      <IndicatorPicker
        features={chartable(catalog.data ?? [])}
        indicators={indicators}
        onChange={setIndicators}
      />
      {loading && <Loading what={`${chosen} ${frame} bars`} />}
      {bars && bars.length > 0 && (
        <PriceChart
          label={`${chosen} ${frame} candles and volume`}
          bars={bars}
          indicators={indicators}
          values={values}
          liveSymbol={live && frame === "1m" ? chosen : undefined}
          onDrawn={setDrawn}
        />
      )}
    </section>
  );
}

function useChartData(symbol: string, timeframe: string, indicators: Indicator[]) {
  const [bars, setBars] = useState<BarRow[]>();
  const [values, setValues] = useState<Record<string, unknown>[]>([]);
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(false);
  const features = calls(indicators);

  useEffect(() => {
    if (!symbol || !timeframe) return;
    let current = true;
    setLoading(true);
    setError(undefined);
    const range = { symbol, timeframe };
    Promise.all([loadBars(range), features ? loadFeatures(range, features) : Promise.resolve([])])
      .then(([b, v]) => {
        if (!current) return;
        setBars(b);
        setValues(v);
      })
      .catch((caught: unknown) => { if (current) setError(asApiError(caught)); })
      .finally(() => { if (current) setLoading(false); });
    return () => { current = false; };
  }, [symbol, timeframe, features]);

  return { bars, values, error, loading };
}

interface PickerProps {
  features: FeatureInfo[];
  indicators: Indicator[];
  onChange: (next: Indicator[]) => void;
}

function IndicatorPicker({ features, indicators, onChange }: PickerProps) {
  const [name, setName] = useState("sma");
  const feature = features.find((f) => f.name === name);
  const [params, setParams] = useState<number[]>([]);
  useEffect(() => { if (feature) setParams(defaults(feature)); }, [feature]);

  const add = (event: Submit) => {
    event.preventDefault();
    if (feature) onChange([...indicators, indicator(feature, params, indicators)]);
  };
  return (
    <form className="toolbar" onSubmit={add} aria-label="Add an indicator">
      <label>
        Indicator
        <select value={name} onChange={(e) => { setName(e.target.value); }}>
          {features.map((f) => (
            <option key={f.name} value={f.name}>
              {f.name} ({f.category})
            </option>
          ))}
        </select>
      </label>
      {feature?.params.map((p, i) => (
        <label key={p.name}>
          {p.name}
          <input
            type="number"
            step={p.integer ? 1 : "any"}
            min={p.minimum ?? undefined}
            max={p.maximum ?? undefined}
            value={params[i] ?? p.default}
            onChange={(e) => {
              const next = [...params];
              next[i] = Number(e.target.value);
              setParams(next);
            }}
            className="narrow"
          />
        </label>
      ))}
      <button type="submit" disabled={!feature}>
        Add
      </button>
      <ul className="chips" aria-label="Indicators on the chart">
        {indicators.map((ind) => (
          <li key={ind.alias}>
            {ind.call.split("=")[1]}
            <button
              type="button"
              className="ghost"
              aria-label={`Remove ${ind.alias}`}
              onClick={() => { onChange(indicators.filter((x) => x.alias !== ind.alias)); }}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </form>
  );
}
