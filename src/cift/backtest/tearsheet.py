"""The tearsheet: one self-contained HTML report of a run (Plotly, works offline).

Equity against a benchmark, drawdown, monthly returns, rolling Sharpe, trades on the
price chart and the metrics table. Long series are thinned to at most ``MAX_POINTS``
per chart (the last value of each time bucket; the deepest point for drawdowns) so a
million-bar run still opens quickly.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from cift.backtest.engine import BacktestResult
from cift.backtest.metrics import Metrics, drawdowns
from cift.core.files import write_text_atomic

MAX_POINTS = 2_000
MAX_PRICE_CHARTS = 4
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def monthly_returns(equity: pl.DataFrame, initial: float) -> pl.DataFrame:
    """``year, month, return``: each month's last equity over the previous month's."""
    return (
        equity.group_by_dynamic("ts", every="1mo")
        .agg(pl.col("equity").last())
        .with_columns(
            (pl.col("equity") / pl.col("equity").shift(1).fill_null(initial) - 1.0).alias("return"),
            pl.col("ts").dt.year().alias("year"),
            pl.col("ts").dt.month().alias("month"),
        )
        .select("year", "month", "return")
    )


def rolling_sharpe(equity: pl.DataFrame, initial: float, ppy: float) -> pl.DataFrame:
    """Annualised Sharpe over a trailing window of a quarter of a year (at least 20)."""
    window = max(20, round(ppy / 4))
    returns = pl.col("equity") / pl.col("equity").shift(1).fill_null(initial) - 1.0
    return equity.select(
        "ts",
        (returns.rolling_mean(window) / returns.rolling_std(window) * math.sqrt(ppy)).alias(
            "sharpe"
        ),
    ).drop_nulls()


def _thin(frame: pl.DataFrame, how: dict[str, pl.Expr]) -> pl.DataFrame:
    """At most MAX_POINTS rows: one per equal time bucket, aggregated by ``how``."""
    if frame.height <= MAX_POINTS:
        return frame
    span = frame.get_column("ts").cast(pl.Int64)
    step = max(1, (int(span.max()) - int(span.min())) // MAX_POINTS)  # type: ignore[arg-type]
    return (
        frame.with_columns(((span - span.min()) // step).alias("_bucket"))
        .group_by("_bucket", maintain_order=True)
        .agg(pl.col("ts").last(), *(expr.alias(name) for name, expr in how.items()))
        .drop("_bucket")
    )


def _equity_figures(
    result: BacktestResult, initial: float, benchmark: pl.DataFrame | None
) -> tuple[go.Figure, go.Figure]:
    curve = result.equity
    under = curve.select(
        "ts", pl.Series("drawdown", drawdowns(curve["equity"].to_numpy(), initial))
    )
    equity = _thin(curve.select("ts", "equity"), {"equity": pl.col("equity").last()})
    fig = go.Figure()
    fig.add_scatter(x=equity["ts"], y=equity["equity"], name="strategy", line={"width": 1.5})
    if benchmark is not None and benchmark.height:
        scaled = curve.select("ts").join_asof(
            benchmark.select("ts", "value").sort("ts"), on="ts", strategy="backward"
        )
        first = scaled.get_column("value").drop_nulls()
        if first.len():
            scaled = scaled.with_columns(pl.col("value") / first[0] * initial)
            scaled = _thin(scaled, {"value": pl.col("value").last()})
            fig.add_scatter(
                x=scaled["ts"],
                y=scaled["value"],
                name="benchmark",
                line={"width": 1, "dash": "dot"},
            )
    fig.update_layout(title="Equity", yaxis_title="equity", height=380)
    depth = _thin(under, {"drawdown": pl.col("drawdown").min()})
    dd = go.Figure(go.Scatter(x=depth["ts"], y=depth["drawdown"], fill="tozeroy", name="drawdown"))
    dd.update_layout(title="Drawdown", yaxis_tickformat=".0%", height=260)
    return fig, dd


def _monthly_figure(result: BacktestResult, initial: float) -> go.Figure:
    months = monthly_returns(result.equity, initial)
    years = sorted(months.get_column("year").unique().to_list())
    grid = [[None] * 12 for _ in years]
    for year, month, value in months.iter_rows():
        grid[years.index(year)][month - 1] = value
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            x=MONTHS,
            y=[str(y) for y in years],
            colorscale="RdYlGn",
            zmid=0,
            texttemplate="%{z:.1%}",
            hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>",
            name="monthly returns",
        )
    )
    fig.update_layout(title="Monthly returns", height=max(220, 40 * len(years) + 120))
    return fig


def _rolling_figure(result: BacktestResult, initial: float, ppy: float) -> go.Figure:
    sharpe = _thin(rolling_sharpe(result.equity, initial, ppy), {"sharpe": pl.col("sharpe").last()})
    fig = go.Figure(go.Scatter(x=sharpe["ts"], y=sharpe["sharpe"], name="rolling Sharpe"))
    fig.update_layout(title=f"Rolling Sharpe ({max(20, round(ppy / 4))} periods)", height=260)
    return fig


def _trades_figures(result: BacktestResult, prices: pl.DataFrame | None) -> list[go.Figure]:
    if prices is None or not prices.height or "close" not in prices.columns:
        return []
    figures = []
    for symbol in result.symbols[:MAX_PRICE_CHARTS]:
        series = prices.filter(pl.col("symbol") == symbol).select("ts", "close")
        series = _thin(series, {"close": pl.col("close").last()})
        trades = result.trades.filter(pl.col("symbol") == symbol)
        fig = go.Figure(go.Scatter(x=series["ts"], y=series["close"], name=symbol))
        for label, ts, price, marker in (
            ("entry", "entry_ts", "entry_price", "triangle-up"),
            ("exit", "exit_ts", "exit_price", "triangle-down"),
        ):
            fig.add_scatter(
                x=trades[ts],
                y=trades[price],
                mode="markers",
                name=label,
                marker={"symbol": marker, "size": 8},
            )
        fig.update_layout(title=f"{symbol}: trades on the price", height=320)
        figures.append(fig)
    return figures


def figures(
    result: BacktestResult,
    metrics: Metrics,
    benchmark: pl.DataFrame | None = None,
    prices: pl.DataFrame | None = None,
) -> list[go.Figure]:
    """Every chart of the tearsheet, in order."""
    initial = metrics.initial_cash
    if not result.equity.height:
        return []
    equity, underwater = _equity_figures(result, initial, benchmark)
    return [
        equity,
        underwater,
        _monthly_figure(result, initial),
        _rolling_figure(result, initial, metrics.periods_per_year),
        *_trades_figures(result, prices),
    ]


def tearsheet_json(result: BacktestResult, metrics: Metrics) -> dict[str, Any]:
    """The tearsheet's numbers: metrics, monthly returns and the trade log."""
    months = monthly_returns(result.equity, metrics.initial_cash) if result.equity.height else None
    trades = result.trades.with_columns(pl.col("entry_ts", "exit_ts").dt.to_string())
    return {
        "strategy": result.strategy,
        "params": result.params,
        "metrics": metrics.to_dict(),
        "monthly_returns": months.to_dicts() if months is not None else [],
        "trades": trades.to_dicts(),
    }


def write_tearsheet(
    result: BacktestResult,
    metrics: Metrics,
    path: Path,
    *,
    benchmark: pl.DataFrame | None = None,
    prices: pl.DataFrame | None = None,
) -> Path:
    """Write the HTML report to ``path`` atomically and return it."""
    charts = figures(result, metrics, benchmark, prices)
    blocks = [
        pio.to_html(fig, include_plotlyjs=(i == 0), full_html=False) for i, fig in enumerate(charts)
    ]
    page = _PAGE.format(
        title=html.escape(f"{result.strategy} {_params(result.params)}"),
        table=_metrics_table(metrics),
        charts="\n".join(f'<section class="chart">{b}</section>' for b in blocks),
    )
    return write_text_atomic(path, page)


def _params(params: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"


def _metrics_table(metrics: Metrics) -> str:
    rows = []
    for name, value in metrics.to_dict().items():
        shown = "—" if value is None else f"{value:,.4g}" if isinstance(value, float) else value
        rows.append(f"<tr><th>{html.escape(name)}</th><td>{html.escape(str(shown))}</td></tr>")
    return '<table class="metrics">' + "".join(rows) + "</table>"


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CIFT backtest: {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; }}
table.metrics {{ border-collapse: collapse; columns: 2; }}
table.metrics th {{ text-align: left; padding: 2px 12px 2px 0; font-weight: 500; }}
table.metrics td {{ text-align: right; font-variant-numeric: tabular-nums; }}
section.chart {{ margin-top: 1rem; }}
</style></head>
<body><h1>{title}</h1>
{table}
{charts}
</body></html>
"""
