// How numbers and times read in tables: fixed, grouped, never "NaN".

const DASH = "—";

/** A finite number from a number or a decimal sent as text (the ledger's amounts). */
function finite(value: unknown): number | undefined {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}

export function number(value: unknown, digits = 2): string {
  const n = finite(value);
  if (n === undefined) return DASH;
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function percent(value: unknown, digits = 2): string {
  const n = finite(value);
  if (n === undefined) return DASH;
  return `${(n * 100).toFixed(digits)}%`;
}

export function integer(value: unknown): string {
  return number(value, 0);
}

/** An ISO time as "YYYY-MM-DD HH:MM" in UTC (the API's times are UTC). */
export function when(value: string | null | undefined): string {
  if (!value) return DASH;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return DASH;
  return date.toISOString().slice(0, 16).replace("T", " ");
}

export function side(value: number): string {
  return value > 0 ? "buy" : "sell";
}

/** A metric by its name: ratios as percentages, counts whole, the rest to 2 places. */
export function metric(name: string, value: unknown): string {
  if (/periods|trades|count|bars/.test(name)) return integer(value);
  if (/days/.test(name)) return number(value, 1);
  if (/return|drawdown|exposure|rate|volatility|cagr/.test(name)) return percent(value);
  return number(value);
}
