"""The tearsheet: what the rendered report shows, checked against independent numbers."""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import empyrical as ep
import numpy as np
import pandas as pd
import polars as pl
import pytest

from cift.backtest import metrics as m
from cift.backtest import report_tables
from cift.backtest.config import BacktestConfig
from cift.backtest.costs import Bps
from cift.backtest.engine import BacktestResult, run_backtest
from cift.backtest.report_charts import MAX_POINTS
from cift.backtest.report_library import PLOTLY_JS, standalone
from cift.backtest.tearsheet import write_reports
from cift.model import Timeframe
from cift.strategy.builtin.sma_cross import SmaCross
from tests.backtest.test_analysis import minute_curve

DAILY = Timeframe.parse("1d")


@pytest.fixture(scope="module")
def run(nvda: tuple[pl.DataFrame, BacktestResult]) -> tuple[pl.DataFrame, BacktestResult]:
    """SMA(10/50) on NVDA's daily bars closing on the XNYS calendar, as a recorded run."""
    bars, _ = nvda
    result = run_backtest(
        SmaCross,
        bars=bars,
        timeframe=DAILY,
        params=SmaCross.parse_params({"fast": 10, "slow": 50}),
        config=BacktestConfig(initial_cash=100_000.0, commission=Bps(10), calendar="XNYS"),
    )
    return bars, result


@pytest.fixture(scope="module")
def page(run: tuple[pl.DataFrame, BacktestResult], tmp_path_factory: pytest.TempPathFactory) -> str:
    bars, result = run
    folder = tmp_path_factory.mktemp("backtests")
    path = report_page(
        result,
        metrics_of(run),
        folder / "run",
        benchmark=m.buy_and_hold(bars, DAILY, "XNYS"),
        prices=bars,
        library=folder,
    )
    return path.read_text()


def report_page(result: BacktestResult, metrics: m.Metrics, folder: Path, **options: Any) -> Path:
    """The run's HTML report, written in ``folder`` as a recorded run writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    write_reports(folder, result, metrics, **options)
    return folder / "tearsheet.html"


def metrics_of(run: tuple[pl.DataFrame, BacktestResult]) -> m.Metrics:
    bars, result = run
    return m.compute_metrics(result, benchmark=m.buy_and_hold(bars, DAILY, "XNYS"))


def figures_in(page: str) -> dict[str, dict[str, object]]:
    """Every trace of every Plotly figure embedded in the page, by name."""
    calls = re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', page, re.S)
    return {str(t.get("name")): t for call in calls for t in json.loads(call)}


def values(data: object) -> np.ndarray:
    """A trace's array, also when Plotly packed it as base64 typed data."""
    if isinstance(data, dict):
        flat = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
        shape = data.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.array(data, dtype=float)


def rows(page: str, css: str) -> list[list[str]]:
    """The body rows of a table of the page, each as ``[heading, *cells]``."""
    body = re.search(rf'<table class="{css}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, f"no {css} table"
    found = re.findall(r"<tr><th>(.*?)</th>(.*?)</tr>", body.group(1), re.S)
    return [
        [html.unescape(head), *(html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", cells))]
        for head, cells in found
    ]


def table(page: str, css: str) -> dict[str, list[str]]:
    """A table whose headings are unique, as ``{heading: cells}``."""
    return {head: cells for head, *cells in rows(page, css)}


def benchmark_returns(run: tuple[pl.DataFrame, BacktestResult]) -> pd.Series:
    """The buy-and-hold's daily returns, independently: NVDA's close to close."""
    bars, result = run
    close = bars.sort("ts")["close"].to_numpy()
    returns = np.concatenate(([0.0], close[1:] / close[:-1] - 1.0))
    assert returns.size == result.equity.height
    return pd.Series(returns)


def test_metrics_are_formatted_beside_the_benchmark(
    run: tuple[pl.DataFrame, BacktestResult], page: str
) -> None:
    metrics = metrics_of(run)
    rows = table(page, "metrics")
    assert rows["Cumulative return"][0] == f"{metrics.total_return:.2%}"
    assert rows["Final equity"][0] == f"{metrics.final_equity:,.2f}"
    assert rows["Sharpe"][0] == f"{metrics.sharpe:.2f}"
    assert rows["Round trips"] == [f"{metrics.trades:,}", ""]  # no benchmark value
    bench = benchmark_returns(run)
    assert rows["Sharpe"][1] == f"{ep.sharpe_ratio(bench):.2f}"
    assert rows["Volatility (annualised)"][1] == f"{ep.annual_volatility(bench):.2%}"
    assert rows["Max drawdown"][1] == f"{ep.max_drawdown(bench):.2%}"
    assert rows["Cumulative return"][1] == f"{ep.cum_returns_final(bench):.2%}"
    assert all(len(cells) == 2 for cells in rows.values())
    assert rows["Beta"][0] == f"{metrics.beta:.2f}"


def test_no_month_or_year_outside_the_data(
    run: tuple[pl.DataFrame, BacktestResult], page: str
) -> None:
    bars, result = run
    held = set(bars.select(pl.col("ts").dt.year().alias("y"), pl.col("ts").dt.month()).iter_rows())
    heat = figures_in(page)["monthly returns"]
    years = [int(y) for y in heat["y"]]  # type: ignore[union-attr]
    grid = values(heat["z"]).astype(float)
    shown = {(years[r], c + 1) for r, c in zip(*np.nonzero(~np.isnan(grid)), strict=True)}
    assert shown == held  # 1999-01 to 2014-12: no 2015 row for data ending 2014-12-31
    equity = result.equity.to_pandas().set_index("ts")["equity"]
    month_end = pd.concat(
        [pd.Series([100_000.0]), equity.resample("ME").last().reset_index(drop=True)]
    )
    expected = month_end.pct_change().iloc[1:].to_numpy()
    assert np.allclose(grid[~np.isnan(grid)], expected, rtol=1e-9)  # years, then months
    yearly = table(page, "yearly")
    assert list(yearly) == [str(y) for y in range(1999, 2015)]
    year_end = pd.concat(
        [pd.Series([100_000.0]), equity.resample("YE").last().reset_index(drop=True)]
    )
    assert [cells[0] for cells in yearly.values()] == [
        f"{r:.2%}" for r in year_end.pct_change().iloc[1:]
    ]


def test_rolling_panels_cover_the_run(page: str) -> None:
    traces = figures_in(page)
    for name in ("rolling Sharpe", "rolling volatility", "rolling beta", "benchmark volatility"):
        shown = values(traces[name]["y"])
        assert shown.size > 1_000, name
        assert np.isfinite(shown).mean() > 0.9, name
    assert "Rolling Sharpe (126 days)" in page


def intraday(run: tuple[pl.DataFrame, BacktestResult], days: int) -> BacktestResult:
    """A run whose equity is a minute random walk over ``days`` sessions, no trades."""
    _, daily = run
    curve = minute_curve(days).with_columns(pl.col("equity").alias("cash"), gross_exposure=0.0)
    return replace(daily, equity=curve, trades=daily.trades.clear(), fills=daily.fills.clear())


def test_an_intraday_run_has_its_rolling_panels(
    run: tuple[pl.DataFrame, BacktestResult], tmp_path: Path
) -> None:
    result = intraday(run, 61)
    curve = result.equity
    metrics = m.compute_metrics(result)
    assert metrics.periods_per_year / 4 > curve.height  # a quarter year of minutes: too long
    page = report_page(result, metrics, tmp_path / "intraday").read_text()
    sharpe = values(figures_in(page)["rolling Sharpe"]["y"])
    assert np.isfinite(sharpe).sum() == 61 - 15 + 1  # daily returns, a 15-day window
    assert "Rolling Sharpe (15 days)" in page
    assert "Distribution of daily returns" in page


def test_worst_drawdowns_and_equity(run: tuple[pl.DataFrame, BacktestResult], page: str) -> None:
    metrics = metrics_of(run)
    spells = table(page, "drawdowns")
    assert len(spells) == report_tables.WORST_SPELLS
    depths = [float(cells[2].rstrip("%")) for cells in spells.values()]
    assert depths == sorted(depths)
    assert depths[0] == pytest.approx(metrics.max_drawdown * 100, abs=0.005)
    traces = figures_in(page)
    assert {"strategy", "benchmark", "drawdown", "strategy yearly", "benchmark yearly"} <= set(
        traces
    )
    depth = values(traces["drawdown"]["y"])
    assert depth.size <= MAX_POINTS + 1
    assert depth.min() == pytest.approx(metrics.max_drawdown)


def test_the_trade_list(
    run: tuple[pl.DataFrame, BacktestResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, result = run
    page = report_page(result, metrics_of(run), tmp_path / "a").read_text()
    trades = rows(page, "trades")
    assert len(trades) == result.trades.height
    first = result.trades.row(0, named=True)
    assert trades[0][0] == "NVDA"
    assert trades[0][1] == "long"
    assert trades[0][7:9] == [f"{first['pnl']:,.2f}", f"{first['return']:.2%}"]
    assert "entry" not in figures_in(page)  # no prices given: no price chart
    monkeypatch.setattr(report_tables, "MAX_TRADE_ROWS", 10)
    shorter = report_page(result, metrics_of(run), tmp_path / "b").read_text()
    assert f"{result.trades.height:,} round trips; the last 10 shown" in shorter
    assert shorter.count("<tr><th>NVDA</th>") == 10


def test_plotly_is_written_once_and_a_rerun_is_identical(
    run: tuple[pl.DataFrame, BacktestResult], tmp_path: Path
) -> None:
    bars, result = run
    written = [
        report_page(result, metrics_of(run), tmp_path / name, library=tmp_path)
        for name in ("first", "again")
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again", "first", PLOTLY_JS]
    first, again = (p.read_bytes() for p in written)
    assert first == again  # the chart ids come from the run, not from chance
    assert len(first) < 1_500_000 < (tmp_path / PLOTLY_JS).stat().st_size
    assert f'src="../{PLOTLY_JS}"' in first.decode()
    other = run_backtest(
        SmaCross,
        bars=bars,
        timeframe=DAILY,
        params=SmaCross.parse_params({"fast": 5, "slow": 20}),
        config=BacktestConfig(initial_cash=100_000.0, calendar="XNYS"),
    )
    ids = set(re.findall(r'id="(chart-[^"]+)"', first.decode()))
    elsewhere = report_page(other, m.compute_metrics(other), tmp_path / "other").read_text()
    assert ids
    assert not ids & set(re.findall(r'id="(chart-[^"]+)"', elsewhere))
    whole = standalone(written[0])
    assert f'src="../{PLOTLY_JS}"' not in whole
    assert len(whole) > (tmp_path / PLOTLY_JS).stat().st_size


def test_the_numbers_are_written_beside_the_page(
    run: tuple[pl.DataFrame, BacktestResult], tmp_path: Path
) -> None:
    bars, result = run
    benchmark = m.buy_and_hold(bars, DAILY, "XNYS")
    write_reports(tmp_path, result, metrics_of(run), benchmark=benchmark, library=tmp_path)
    assert (tmp_path / "tearsheet.html").is_file()
    data = json.loads((tmp_path / "tearsheet.json").read_text())
    assert data["metrics"]["trades"] == len(data["trades"]) == result.trades.height
    assert [r["year"] for r in data["yearly_returns"]] == list(range(1999, 2015))
    assert data["drawdowns"][0]["depth"] == pytest.approx(data["metrics"]["max_drawdown"])
    compounded = np.prod([1 + r["return"] for r in data["monthly_returns"]]) - 1
    assert compounded == pytest.approx(data["metrics"]["total_return"], rel=1e-9)


def test_the_benchmark_closes_with_the_run_on_its_calendar(
    run: tuple[pl.DataFrame, BacktestResult],
) -> None:
    bars, result = run
    benchmark = m.buy_and_hold(bars, DAILY, "XNYS")
    assert benchmark["ts"].to_list() == result.equity["ts"].to_list()
    assert benchmark["ts"][-1].hour == 21  # 16:00 New York on 2014-12-31


def test_an_intraday_run_lists_drawdowns_of_its_days(
    run: tuple[pl.DataFrame, BacktestResult], tmp_path: Path
) -> None:
    result = intraday(run, 30)
    curve = result.equity
    page = report_page(result, m.compute_metrics(result), tmp_path / "r").read_text()
    closes = curve.group_by(pl.col("ts").dt.date()).agg(pl.col("equity").last()).sort("ts")
    under = m.drawdowns(closes["equity"].to_numpy(), 100_000.0) < 0
    spells = int(np.sum(under[1:] & ~under[:-1]) + under[0])
    assert len(rows(page, "drawdowns")) == min(spells, report_tables.WORST_SPELLS)
    listed = rows(page, "drawdowns")
    assert len({started for started, *_ in listed}) == len(listed)  # one spell a day at most
    assert all(started <= valley for started, valley, *_ in listed)
