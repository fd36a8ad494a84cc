// API rows turned into what the charts draw: seconds since the epoch, one point per time,
// in time order. Pure functions, tested on their own.

import type { BarRow, EquityRow, TradeRow } from "../api/types";

export interface Point {
  time: number; // seconds since the epoch, UTC
  value: number;
}

export interface Candle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
}

export interface Marker {
  time: number;
  position: "aboveBar" | "belowBar";
  shape: "arrowUp" | "arrowDown";
  color: string;
  text: string;
}

export const UP = "#26a69a";
export const DOWN = "#ef5350";
export const UP_VOLUME = `${UP}80`;
export const DOWN_VOLUME = `${DOWN}80`;

export function seconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

export interface Volume extends Point {
  color: string;
}

/** Candles and volume bars of ``rows`` in one pass (a chart may hold 100,000 of each). */
export function candlesAndVolumes(rows: BarRow[]): { candles: Candle[]; volumes: Volume[] } {
  const candles = new Array<Candle>(rows.length);
  const volumes = new Array<Volume>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i] as BarRow;
    const time = seconds(r.ts);
    candles[i] = { time, open: r.open, high: r.high, low: r.low, close: r.close };
    volumes[i] = { time, value: r.volume ?? 0, color: r.close >= r.open ? UP_VOLUME : DOWN_VOLUME };
  }
  return { candles, volumes };
}

/** One column of feature rows as points; warm-up (null) rows are left out. */
export function column(rows: Record<string, unknown>[], name: string): Point[] {
  const points: Point[] = [];
  for (const row of rows) {
    const value = row[name];
    if (typeof value === "number" && Number.isFinite(value)) {
      points.push({ time: seconds(String(row.ts)), value });
    }
  }
  return points;
}

export function equity(rows: EquityRow[]): Point[] {
  return rows.map((r) => ({ time: seconds(r.ts), value: r.equity }));
}

/** Equity below its running peak, as a fraction (0 at a new high, negative under it). */
export function drawdown(rows: EquityRow[]): Point[] {
  let peak = -Infinity;
  return rows.map((r) => {
    peak = Math.max(peak, r.equity);
    return { time: seconds(r.ts), value: peak > 0 ? r.equity / peak - 1 : 0 };
  });
}

/** Gross exposure as a fraction of equity. */
export function exposure(rows: EquityRow[]): Point[] {
  return rows.map((r) => ({
    time: seconds(r.ts),
    value: r.equity !== 0 ? r.gross_exposure / r.equity : 0,
  }));
}

/** Equity rebased to 1 at its first point, so runs of any size compare. */
export function rebased(rows: EquityRow[]): Point[] {
  const first = rows[0]?.equity ?? 0;
  return rows.map((r) => ({ time: seconds(r.ts), value: first ? r.equity / first : 0 }));
}

/** Entry and exit arrows of one symbol's trades, in time order. */
export function tradeMarkers(trades: TradeRow[], symbol: string): Marker[] {
  const markers: Marker[] = [];
  for (const t of trades) {
    if (t.symbol !== symbol) continue;
    const long = t.side > 0;
    markers.push({
      time: seconds(t.entry_ts),
      position: long ? "belowBar" : "aboveBar",
      shape: long ? "arrowUp" : "arrowDown",
      color: long ? UP : DOWN,
      text: long ? "buy" : "short",
    });
    markers.push({
      time: seconds(t.exit_ts),
      position: long ? "aboveBar" : "belowBar",
      shape: long ? "arrowDown" : "arrowUp",
      color: t.pnl >= 0 ? UP : DOWN,
      text: `${t.pnl >= 0 ? "+" : ""}${t.pnl.toFixed(0)}`,
    });
  }
  return markers.sort((a, b) => a.time - b.time);
}
