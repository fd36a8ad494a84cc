"""The tearsheet's Plotly charts.

Long series are thinned to at most ``MAX_POINTS`` per chart (the last value of each time
bucket; the deepest point for drawdowns) so a million-bar run still opens quickly.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from cift.backtest import analysis
from cift.backtest.metrics import drawdowns

MAX_POINTS = 2_000
MAX_PRICE_CHARTS = 4
SHADED_SPELLS = 5
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
BENCHMARK_LINE = {"width": 1, "dash": "dot", "color": "#7f7f7f"}


def figures(report: analysis.Analysis, prices: pl.DataFrame | None) -> list[go.Figure]:
    """Every chart of the tearsheet, in order."""
    charts = [
        equity_figure(report),
        underwater_figure(report),
        yearly_figure(report),
        monthly_figure(report),
        distribution_figure(report),
    ]
    if report.window is not None:
        charts += rolling_figures(report, report.window)
    return charts + trades_figures(report, prices)


def thin(frame: pl.DataFrame, how: dict[str, pl.Expr]) -> pl.DataFrame:
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


def _last(frame: pl.DataFrame) -> pl.DataFrame:
    return thin(frame, {name: pl.col(name).last() for name in frame.columns if name != "ts"})


def equity_figure(report: analysis.Analysis) -> go.Figure:
    """Equity against the benchmark, the worst drawdown spells shaded."""
    values = _last(report.values)
    fig = go.Figure()
    fig.add_scatter(x=values["ts"], y=values["equity"], name="strategy", line={"width": 1.5})
    if report.has_benchmark:
        fig.add_scatter(
            x=values["ts"], y=values["benchmark"], name="benchmark", line=BENCHMARK_LINE
        )
    last = report.values.get_column("ts").max()
    for started, recovered in (
        report.spells.head(SHADED_SPELLS).select("started", "recovered").iter_rows()
    ):
        fig.add_vrect(x0=started, x1=recovered or last, fillcolor="red", opacity=0.08, line_width=0)
    fig.update_layout(
        title=f"Equity (the {SHADED_SPELLS} worst drawdowns shaded)",
        yaxis_title="equity",
        height=380,
    )
    return fig


def underwater_figure(report: analysis.Analysis) -> go.Figure:
    initial = report.metrics.initial_cash
    equity = report.values.get_column("equity").to_numpy()
    under = report.values.select("ts", pl.Series("drawdown", drawdowns(equity, initial)))
    depth = thin(under, {"drawdown": pl.col("drawdown").min()})
    fig = go.Figure(go.Scatter(x=depth["ts"], y=depth["drawdown"], fill="tozeroy", name="drawdown"))
    fig.update_layout(title="Drawdown", yaxis_tickformat=".0%", height=260)
    return fig


def yearly_figure(report: analysis.Analysis) -> go.Figure:
    years = analysis.yearly_returns(report)
    labels = years.get_column("year").cast(pl.String)
    fig = go.Figure()
    for name in report.returns.columns:
        fig.add_bar(x=labels, y=years[name], name=f"{name} yearly")
    fig.update_layout(title="Returns by year", yaxis_tickformat=".0%", barmode="group", height=300)
    return fig


def monthly_figure(report: analysis.Analysis) -> go.Figure:
    """Year by month; a month without data is blank and a year without data absent."""
    months = analysis.monthly_table(report.returns.frame)
    years = months.get_column("year").unique().sort().to_list()
    grid: list[list[float | None]] = [[None] * 12 for _ in years]
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


def distribution_figure(report: analysis.Analysis) -> go.Figure:
    returns = report.returns
    fig = go.Figure()
    for name in returns.columns:
        fig.add_histogram(
            x=returns.frame[name], name=f"{name} returns", opacity=0.6, histnorm="probability"
        )
    fig.update_layout(
        title="Distribution of " + ("daily returns" if returns.daily else "returns per period"),
        barmode="overlay",
        xaxis_tickformat=".1%",
        height=280,
    )
    return fig


def rolling_figures(report: analysis.Analysis, window: int) -> list[go.Figure]:
    """Rolling Sharpe, volatility and (with a benchmark) beta over ``window`` rows."""
    rolling = _last(analysis.rolling_stats(report.returns, window))
    span = f"{window} {report.returns.period}s"
    sharpe = go.Figure(go.Scatter(x=rolling["ts"], y=rolling["sharpe"], name="rolling Sharpe"))
    sharpe.update_layout(title=f"Rolling Sharpe ({span})", height=260)
    volatility = go.Figure()
    volatility.add_scatter(x=rolling["ts"], y=rolling["volatility"], name="rolling volatility")
    charts = [sharpe, volatility]
    if "beta" in rolling.columns:
        volatility.add_scatter(
            x=rolling["ts"],
            y=rolling["benchmark_volatility"],
            name="benchmark volatility",
            line=BENCHMARK_LINE,
        )
        beta = go.Figure(go.Scatter(x=rolling["ts"], y=rolling["beta"], name="rolling beta"))
        beta.update_layout(title=f"Rolling beta to the benchmark ({span})", height=260)
        charts.append(beta)
    volatility.update_layout(
        title=f"Rolling volatility, annualised ({span})", yaxis_tickformat=".0%", height=260
    )
    return charts


def trades_figures(report: analysis.Analysis, prices: pl.DataFrame | None) -> list[go.Figure]:
    if prices is None or not prices.height or "close" not in prices.columns:
        return []
    result = report.result
    charts = []
    for symbol in result.symbols[:MAX_PRICE_CHARTS]:
        series = _last(prices.filter(pl.col("symbol") == symbol).select("ts", "close"))
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
        charts.append(fig)
    return charts
