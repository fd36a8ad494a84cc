// One lightweight-charts chart sized to its box and coloured by the theme. Children
// draw into it through ``onReady``; the chart goes away with the component.

import { useEffect, useRef } from "react";
import { ColorType, CrosshairMode, createChart } from "lightweight-charts";
import type { IChartApi } from "lightweight-charts";
import { chartColors } from "../lib/theme";

interface Props {
  label: string;
  height: number;
  onReady: (chart: IChartApi) => (() => void) | undefined;
  deps: unknown[];
}

export function Chart({ label, height, onReady, deps }: Props) {
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const colors = chartColors();
    const chart = createChart(element, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: colors.background },
        textColor: colors.text,
        attributionLogo: false,
        panes: { separatorColor: colors.grid },
      },
      grid: { vertLines: { color: colors.grid }, horzLines: { color: colors.grid } },
      timeScale: { timeVisible: true, secondsVisible: false, minBarSpacing: 0.01 },
      crosshair: { mode: CrosshairMode.Normal },
    });
    const retheme = () => {
      const next = chartColors();
      chart.applyOptions({
        layout: { background: { type: ColorType.Solid, color: next.background }, textColor: next.text },
        grid: { vertLines: { color: next.grid }, horzLines: { color: next.grid } },
      });
    };
    window.addEventListener("cift-theme", retheme);
    const cleanup = onReady(chart);
    return () => {
      window.removeEventListener("cift-theme", retheme);
      cleanup?.();
      chart.remove();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);

  return <div ref={box} className="chart" style={{ height }} role="img" aria-label={label} />;
}
