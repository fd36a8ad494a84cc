import { describe, expect, it } from "vitest";
import { levels, shade } from "./Sweeps";

describe("sweep heat maps", () => {
  const trials = [
    { params: { fast: 20, slow: 60 } },
    { params: { fast: 10, slow: 120 } },
    { params: { fast: 10, slow: 60 } },
  ];

  it("lays each parameter's distinct values out in ascending order", () => {
    expect(levels(trials, "fast")).toEqual([10, 20]);
    expect(levels(trials, "slow")).toEqual([60, 120]);
    expect(levels(trials, undefined)).toEqual([0]);
  });

  it("shades from red at the lowest value to green at the highest", () => {
    expect(shade(-1, -1, 3)).toBe("hsl(0 60% 42%)");
    expect(shade(3, -1, 3)).toBe("hsl(120 60% 42%)");
    expect(shade(1, -1, 3)).toBe("hsl(60 60% 42%)");
    expect(shade(5, 5, 5)).toBe("hsl(60 60% 42%)");
  });
});
