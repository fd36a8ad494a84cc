// Candles and volume of one symbol, with indicators over the prices or in panes below,
// trade markers, and live bars appended as they come.

import {
  CandlestickSeries,
  HistogramSeries,
  LineSeries,
  createSeriesMarkers,
} from "lightweight-charts";
import type {
  CandlestickData,
  HistogramData,
  IChartApi,
  ISeriesApi,
  UTCTimestamp,
} from "lightweight-charts";
import type { BarRow } from "../api/types";
import type { Indicator } from "../lib/features";
import { DOWN, DOWN_VOLUME, UP, UP_VOLUME, candlesAndVolumes, column, seconds } from "../lib/series";
import type { Marker } from "../lib/series";
import { liveBars } from "../lib/live";
import { Chart } from "./Chart";
import { PALETTE } from "./LineChart";

interface Props {
  label: string;
  bars: BarRow[];
  indicators?: Indicator[];
  values?: Record<string, unknown>[];
  markers?: Marker[];
  liveSymbol?: string;
  height?: number;
  onDrawn?: (milliseconds: number) => void;
}

type Time = UTCTimestamp;
const NONE: never[] = []; // one empty list, so a chart without extras is not redrawn each render

export function PriceChart(props: Props) {
  const { label, bars, liveSymbol, height = 460 } = props;
  const { indicators = NONE, values = NONE, markers = NONE } = props;
  return (
    <Chart
      label={label}
      height={height + 140 * new Set(indicators.filter((i) => !i.overlay).map((i) => i.alias)).size}
      deps={[bars, indicators, values, markers, liveSymbol]}
      onReady={(chart) => {
        const began = performance.now();
        const price = chart.addSeries(CandlestickSeries, {
          upColor: UP,
          downColor: DOWN,
          borderVisible: false,
          wickUpColor: UP,
          wickDownColor: DOWN,
        });
        const drawn = candlesAndVolumes(bars);
        price.setData(drawn.candles as CandlestickData<Time>[]);
        const volume = chart.addSeries(HistogramSeries, {
          priceFormat: { type: "volume" },
          priceScaleId: "volume",
        });
        volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
        volume.setData(drawn.volumes as HistogramData<Time>[]);
        drawIndicators(chart, indicators, values);
        if (markers.length) {
          createSeriesMarkers(price, markers.map((m) => ({ ...m, time: m.time as Time })));
        }
        showLatest(chart, bars.length);
        const onDrawn = props.onDrawn;
        if (onDrawn) {
          // The chart paints on the next frame: measure until the frame after it.
          requestAnimationFrame(() => requestAnimationFrame(() => { onDrawn(performance.now() - began); }));
        }
        if (!liveSymbol) return undefined;
        return liveBars(liveSymbol, (bar) => { append(price, volume, bar); });
      }}
    />
  );
}

/** The latest bars fill the screen, as trading charts open; the rest is a drag or a
 * scroll away. Drawing 100,000 sub-pixel candles at once would only blur them. */
export const FIRST_VIEW_BARS = 2_000;

function showLatest(chart: IChartApi, count: number): void {
  if (count <= FIRST_VIEW_BARS) chart.timeScale().fitContent();
  else chart.timeScale().setVisibleLogicalRange({ from: count - FIRST_VIEW_BARS, to: count });
}

function drawIndicators(
  chart: IChartApi,
  indicators: Indicator[],
  values: Record<string, unknown>[],
): void {
  let pane = 0;
  let colour = 0;
  for (const indicator of indicators) {
    const index = indicator.overlay ? 0 : ++pane;
    for (const name of indicator.columns) {
      const color = PALETTE[colour++ % PALETTE.length] ?? "#58a6ff";
      const series = chart.addSeries(LineSeries, { color, lineWidth: 1, title: name, priceLineVisible: false }, index);
      series.setData(column(values, name).map((p) => ({ time: p.time as Time, value: p.value })));
    }
  }
}

function append(
  price: ISeriesApi<"Candlestick">,
  volume: ISeriesApi<"Histogram">,
  bar: BarRow,
): void {
  const time = seconds(bar.ts) as Time;
  const last = price.data().at(-1);
  if (last && (last.time as number) > time) return; // an old bar: the chart moves forward only
  price.update({ time, open: bar.open, high: bar.high, low: bar.low, close: bar.close });
  volume.update({ time, value: bar.volume ?? 0, color: bar.close >= bar.open ? UP_VOLUME : DOWN_VOLUME });
}
