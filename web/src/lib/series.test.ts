import { describe, expect, it } from "vitest";
import type { EquityRow, TradeRow } from "../api/types";
import { DOWN_VOLUME, UP_VOLUME, candlesAndVolumes, column, drawdown, exposure, rebased, seconds, tradeMarkers } from "./series";

const curve = (values: number[]): EquityRow[] =>
  values.map((equity, i) => ({
    ts: new Date(Date.UTC(2024, 0, 2, 14, 30 + i)).toISOString(),
    equity,
    cash: equity / 2,
    gross_exposure: equity / 2,
  }));

describe("equity curves", () => {
  it("measures drawdown from the running peak, zero at every new high", () => {
    const points = drawdown(curve([100, 110, 99, 121, 110]));
    expect(points.map((p) => p.value)).toEqual([0, 0, 99 / 110 - 1, 0, 110 / 121 - 1]);
    expect(points.every((p) => p.value <= 0)).toBe(true);
  });

  it("rebases to 1 and reads exposure as a fraction of equity", () => {
    expect(rebased(curve([200, 250, 150])).map((p) => p.value)).toEqual([1, 1.25, 0.75]);
    expect(exposure(curve([200, 250])).map((p) => p.value)).toEqual([0.5, 0.5]);
  });

  it("keeps times in seconds of UTC, in order", () => {
    const points = drawdown(curve([1, 2, 3]));
    expect(points[0]?.time).toBe(Date.UTC(2024, 0, 2, 14, 30) / 1000);
    expect(points.map((p) => p.time)).toEqual([...points.map((p) => p.time)].sort((a, b) => a - b));
  });
});

describe("feature columns", () => {
  it("leaves out warm-up rows, whose values are null", () => {
    const rows = [
      { ts: "2024-01-02T14:30:00Z", rsi: null },
      { ts: "2024-01-02T14:31:00Z", rsi: 55.5 },
    ];
    expect(column(rows, "rsi")).toEqual([{ time: seconds("2024-01-02T14:31:00Z"), value: 55.5 }]);
  });
});

describe("trade markers", () => {
  const trade = (symbol: string, side: number, entry: string, exit: string, pnl: number): TradeRow => ({
    symbol, side, entry_ts: entry, exit_ts: exit, quantity: 1, entry_price: 1, exit_price: 1, pnl, return: 0, commission: 0,
  });

  it("marks each trade of the symbol at its entry and exit, in time order", () => {
    const trades = [
      trade("AAPL", -1, "2024-01-03T15:00:00Z", "2024-01-03T16:00:00Z", -5),
      trade("MSFT", 1, "2024-01-02T15:00:00Z", "2024-01-02T16:00:00Z", 3),
      trade("AAPL", 1, "2024-01-02T15:00:00Z", "2024-01-02T16:00:00Z", 12.4),
    ];
    const markers = tradeMarkers(trades, "AAPL");
    expect(markers.map((m) => m.text)).toEqual(["buy", "+12", "short", "-5"]);
    expect(markers[0]).toMatchObject({ position: "belowBar", shape: "arrowUp" });
    expect(markers[2]).toMatchObject({ position: "aboveBar", shape: "arrowDown" });
  });
});

describe("candles and volume", () => {
  it("keeps every bar, its time in seconds and its volume coloured by direction", () => {
    const bar = (ts: string, open: number, close: number, volume: number | null) => ({
      symbol: "AAA", ts, open, high: Math.max(open, close), low: Math.min(open, close), close, volume,
    });
    const { candles, volumes } = candlesAndVolumes([
      bar("2024-01-02T14:30:00Z", 10, 11, 500),
      bar("2024-01-02T14:31:00Z", 11, 10.5, null),
    ] as Parameters<typeof candlesAndVolumes>[0]);
    expect(candles).toEqual([
      { time: seconds("2024-01-02T14:30:00Z"), open: 10, high: 11, low: 10, close: 11 },
      { time: seconds("2024-01-02T14:31:00Z"), open: 11, high: 11, low: 10.5, close: 10.5 },
    ]);
    expect(volumes.map((v) => [v.value, v.color])).toEqual([[500, UP_VOLUME], [0, DOWN_VOLUME]]);
  });
});
