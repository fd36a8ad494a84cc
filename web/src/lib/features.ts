// Catalog features on a price chart: the call the API computes, and where each output
// is drawn (over the prices, or in a pane of its own).

import type { FeatureInfo } from "../api/types";

/** Features whose values are prices: drawn over the candles. */
const ON_PRICE = new Set([
  "sma", "ema", "wma", "dema", "tema", "trima", "kama", "t3", "midpoint", "midprice",
  "bbands", "sar", "vwap", "donchian", "keltner", "linearreg", "tsf",
]);

export interface Indicator {
  name: string;
  alias: string;
  values: number[];
  call: string;
  columns: string[];
  overlay: boolean;
}

export function onPrice(name: string): boolean {
  return ON_PRICE.has(name);
}

/** Only features a chart of bars can feed: no labels, every input a bar column. */
export function chartable(features: FeatureInfo[]): FeatureInfo[] {
  const bar = new Set(["open", "high", "low", "close", "volume", "vwap", "trade_count", "ts"]);
  return features.filter((f) => !f.forward_looking && f.inputs.every((i) => bar.has(i)));
}

export function defaults(feature: FeatureInfo): number[] {
  return feature.params.map((p) => p.default);
}

/** An indicator with its call (``bbands(20, 2, 2)``) and output columns named uniquely. */
export function indicator(feature: FeatureInfo, values: number[], taken: Indicator[]): Indicator {
  const name = feature.name;
  const used = new Set(taken.map((t) => t.alias));
  let alias = name;
  for (let n = 2; used.has(alias); n++) alias = `${name}${String(n)}`;
  const columns = feature.outputs.map(
    (o) => alias + (o.startsWith(name) ? o.slice(name.length) : o),
  );
  const call = `${alias}=${name}(${values.join(", ")})`;
  return { name, alias, values, call, columns, overlay: onPrice(name) };
}

/** Every indicator's call in one comma-separated ``features`` parameter. */
export function calls(indicators: Indicator[]): string {
  return indicators.map((i) => i.call).join(",");
}
