"""The tearsheet: self-contained HTML whose charts hold the run's numbers."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest

from cift.backtest import metrics as m
from cift.backtest.engine import BacktestResult
from cift.backtest.tearsheet import MAX_POINTS, tearsheet_json, write_tearsheet


def figures_in(page: str) -> list[dict[str, object]]:
    """The data of every Plotly figure embedded in the page."""
    calls = re.findall(r'Plotly\.newPlot\(\s*"[^"]+",\s*(\[.*?\]),\s*\{', page, re.S)
    return [trace for call in calls for trace in json.loads(call)]


def values(data: object) -> np.ndarray:
    """A trace's array, also when Plotly packed it as base64 typed data."""
    if isinstance(data, dict):
        flat = np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"])
        shape = data.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.array(data, dtype=float)


def test_report_is_offline_and_holds_the_numbers(
    nvda: tuple[pl.DataFrame, BacktestResult],
    tmp_path: Path,
) -> None:
    bars, result = nvda
    metrics = m.compute_metrics(result)
    path = write_tearsheet(
        result,
        metrics,
        tmp_path / "report.html",
        benchmark=m.buy_and_hold(bars),
        prices=bars,
    )
    page = path.read_text()
    assert "<script src=" not in page  # plotly.js is inline: works without a network
    traces = {t.get("name"): t for t in figures_in(page)}
    assert {"strategy", "benchmark", "drawdown", "monthly returns", "rolling Sharpe"} <= set(traces)
    assert len(values(traces["entry"]["y"])) == result.trades.height

    equity = result.equity.to_pandas().set_index("ts")["equity"]
    month_end = pd.concat(
        [pd.Series([100_000.0]), equity.resample("ME").last().reset_index(drop=True)]
    )
    expected = month_end.pct_change().iloc[1:].to_numpy()
    heat = values(traces["monthly returns"]["z"]).astype(float).ravel()
    assert np.allclose(heat[~np.isnan(heat)], expected, rtol=1e-12)

    depth = values(traces["drawdown"]["y"])
    assert depth.size <= MAX_POINTS + 1
    assert depth.min() == pytest.approx(metrics.max_drawdown)


def test_json_round_trips(nvda: tuple[pl.DataFrame, BacktestResult]) -> None:
    _, result = nvda
    data = tearsheet_json(result, m.compute_metrics(result))
    again = json.loads(json.dumps(data))
    assert again["metrics"]["trades"] == len(again["trades"]) == result.trades.height
    assert sum(1 + r["return"] for r in again["monthly_returns"]) > 0
