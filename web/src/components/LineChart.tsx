// Lines over time (equity, drawdown, exposure, rebased runs), one colour each.

import { AreaSeries, LineSeries } from "lightweight-charts";
import type { UTCTimestamp } from "lightweight-charts";
import type { Point } from "../lib/series";
import { Chart } from "./Chart";

export const PALETTE = ["#58a6ff", "#f0883e", "#3fb950", "#d2a8ff", "#ff7b72", "#e3b341"];

export interface Line {
  name: string;
  points: Point[];
}

interface Props {
  label: string;
  lines: Line[];
  height?: number;
  area?: boolean;
  percent?: boolean;
}

export function LineChart({ label, lines, height = 220, area = false, percent = false }: Props) {
  return (
    <figure className="figure">
      <figcaption>{label}</figcaption>
      <Chart
        label={label}
        height={height}
        deps={[lines, area, percent]}
        onReady={(chart) => {
          const format = percent
            ? { type: "custom" as const, formatter: (v: number) => `${(v * 100).toFixed(1)}%` }
            : { type: "price" as const, precision: 2, minMove: 0.01 };
          lines.forEach((line, index) => {
            const color = PALETTE[index % PALETTE.length] ?? "#58a6ff";
            const series = area
              ? chart.addSeries(AreaSeries, {
                  lineColor: color,
                  topColor: `${color}10`,
                  bottomColor: `${color}60`,
                  priceFormat: format,
                  title: lines.length > 1 ? line.name : "",
                })
              : chart.addSeries(LineSeries, {
                  color,
                  lineWidth: 2,
                  priceFormat: format,
                  title: lines.length > 1 ? line.name : "",
                });
            series.setData(line.points.map((p) => ({ time: p.time as UTCTimestamp, value: p.value })));
          });
          chart.timeScale().fitContent();
          return undefined;
        }}
      />
    </figure>
  );
}
