"""The tearsheet: one HTML report of a run, at the level of quantstats' full report.

Formatted metrics beside the benchmark's, equity and the worst drawdown spells, the
underwater chart, yearly and monthly returns, the distribution of returns, rolling
Sharpe, volatility and beta, trades on the price and the trade list. It works offline:
plotly.js is written once beside the runs' folders (``plotly-<version>.min.js``) and
each report loads it by a relative path; :mod:`cift.backtest.report_library` inlines it
for a report served or downloaded on its own. The page is a function of the run alone,
so a re-run writes the same bytes.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

import plotly.io as pio
import polars as pl

from cift.backtest import analysis, report_charts, report_tables
from cift.backtest.engine import BacktestResult
from cift.backtest.metrics import Metrics
from cift.backtest.report_library import library_file
from cift.core.files import write_text_atomic
from cift.data.digest import frame_digest


def write_reports(
    folder: Path,
    result: BacktestResult,
    metrics: Metrics,
    *,
    benchmark: pl.DataFrame | None = None,
    prices: pl.DataFrame | None = None,
    library: Path | None = None,
) -> None:
    """``tearsheet.json`` and ``tearsheet.html`` in ``folder``, from one analysis, each
    written atomically. plotly.js goes once into the folder ``library`` (written if
    missing) and the page loads it from there; without ``library`` it is inline, so the
    page stands alone."""
    report = _analysed(result, metrics, benchmark)
    numbers = json.dumps(_numbers(result, metrics, report), indent=2, default=str)
    write_text_atomic(folder / "tearsheet.json", numbers)
    _write_page(result, metrics, report, folder / "tearsheet.html", prices, library)


def _analysed(
    result: BacktestResult, metrics: Metrics, benchmark: pl.DataFrame | None
) -> analysis.Analysis | None:
    """The run's analysis; None for a run without an equity curve."""
    return analysis.analyse(result, metrics, benchmark) if result.equity.height else None


def _numbers(
    result: BacktestResult, metrics: Metrics, report: analysis.Analysis | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "strategy": result.strategy,
        "params": result.params,
        "metrics": metrics.to_dict(),
        "monthly_returns": [],
        "yearly_returns": [],
        "drawdowns": [],
        "trades": _stringified(result.trades),
    }
    if report is not None:
        data["monthly_returns"] = analysis.monthly_table(report.returns.frame).to_dicts()
        data["yearly_returns"] = analysis.yearly_returns(report).to_dicts()
        data["drawdowns"] = _stringified(report.spells.head(report_tables.WORST_SPELLS))
    return data


def _write_page(
    result: BacktestResult,
    metrics: Metrics,
    report: analysis.Analysis | None,
    path: Path,
    prices: pl.DataFrame | None,
    library: Path | None,
) -> Path:
    charts = report_charts.figures(report, prices) if report else []
    key = frame_digest(result.equity)[:12]
    script: bool | str = True
    if library is not None:
        script = os.path.relpath(library_file(library), path.parent)
    blocks = [
        pio.to_html(
            fig,
            include_plotlyjs=script if i == 0 else False,
            full_html=False,
            div_id=f"chart-{key}-{i}",
        )
        for i, fig in enumerate(charts)
    ]
    page = report_tables.PAGE.format(
        title=html.escape(f"{result.strategy} {_params(result.params)}"),
        subtitle=html.escape(report_tables.subtitle(result, metrics)),
        tables=report_tables.tables_html(report) if report else "",
        charts="\n".join(f'<section class="chart">{b}</section>' for b in blocks),
        trades=report_tables.trades_html(result.trades),
    )
    return write_text_atomic(path, page)


def _params(params: dict[str, Any]) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"


def _stringified(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.with_columns(pl.col(pl.Datetime).dt.to_string()).to_dicts()
