import { describe, expect, it } from "vitest";
import type { FeatureInfo } from "../api/types";
import { calls, chartable, indicator } from "./features";

const feature = (name: string, outputs: string[], params: number[], inputs = ["close"]): FeatureInfo => ({
  name,
  category: "technical",
  signature: `${name}(...)`,
  inputs,
  outputs,
  params: params.map((d, i) => ({ name: `p${String(i)}`, default: d, integer: true, minimum: null, maximum: null })),
  forward_looking: false,
  description: "",
});

describe("indicators", () => {
  it("names the columns as the API does for an aliased call", () => {
    const bbands = feature("bbands", ["bbands_upper", "bbands_middle", "bbands_lower"], [20, 2, 2]);
    const first = indicator(bbands, [20, 2, 2], []);
    expect(first.call).toBe("bbands=bbands(20, 2, 2)");
    expect(first.columns).toEqual(["bbands_upper", "bbands_middle", "bbands_lower"]);
    expect(first.overlay).toBe(true);
    const second = indicator(bbands, [50, 2, 2], [first]);
    expect(second.alias).toBe("bbands2");
    expect(second.columns).toEqual(["bbands2_upper", "bbands2_middle", "bbands2_lower"]);
    expect(calls([first, second])).toBe("bbands=bbands(20, 2, 2),bbands2=bbands(50, 2, 2)");
  });

  it("puts oscillators in their own pane and keeps outputs not prefixed by the name", () => {
    const rsi = indicator(feature("rsi", ["rsi"], [14]), [14], []);
    expect(rsi.overlay).toBe(false);
    const stoch = indicator(feature("stoch", ["slowk", "slowd"], [5, 3, 3]), [5, 3, 3], []);
    expect(stoch.columns).toEqual(["stochslowk", "stochslowd"]);
  });

  it("offers only features a bar chart can feed, never labels", () => {
    const label = { ...feature("triple_barrier", ["label"], []), forward_looking: true };
    const ticks = feature("vpin", ["vpin"], [50], ["price", "size"]);
    const sma = feature("sma", ["sma"], [30]);
    expect(chartable([label, ticks, sma]).map((f) => f.name)).toEqual(["sma"]);
  });
});
