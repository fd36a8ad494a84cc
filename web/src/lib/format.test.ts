import { describe, expect, it } from "vitest";
import { metric, number, percent, when } from "./format";

describe("formatting", () => {
  it("never shows NaN or undefined", () => {
    for (const bad of [null, undefined, Number.NaN, Infinity, "x", {}]) {
      expect(number(bad)).toBe("—");
      expect(percent(bad)).toBe("—");
    }
  });

  it("reads decimals sent as strings (the ledger's exact amounts)", () => {
    expect(number("100000.5")).toBe("100,000.50");
    expect(percent(-0.0811)).toBe("-8.11%");
  });

  it("shows ratios as percentages and counts whole", () => {
    expect(metric("max_drawdown", -0.1)).toBe("-10.00%");
    expect(metric("trades", 774)).toBe("774");
    expect(metric("max_drawdown_periods", 22890)).toBe("22,890");
    expect(metric("max_drawdown_days", 84.146)).toBe("84.1");
    expect(metric("periods_per_year", 98280)).toBe("98,280");
    expect(metric("sharpe", 1.234)).toBe("1.23");
  });

  it("prints times in UTC", () => {
    expect(when("2024-01-02T14:30:00Z")).toBe("2024-01-02 14:30");
    expect(when(null)).toBe("—");
  });
});
