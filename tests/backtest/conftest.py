"""Shared backtest fixtures."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cift.backtest.config import BacktestConfig
from cift.backtest.costs import Bps
from cift.backtest.engine import BacktestResult, run_backtest
from cift.data.files import load
from cift.strategy.builtin.sma_cross import SmaCross

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "daily"


@pytest.fixture(scope="session")
def nvda() -> tuple[pl.DataFrame, BacktestResult]:
    """SMA(10/50) on NVDA daily bars, 0.1% commission: the bars and the result."""
    loaded = load(DATA / "nvda-1999-2014.csv")
    result = run_backtest(
        SmaCross,
        bars=loaded.frame,
        timeframe=loaded.timeframe,
        params=SmaCross.parse_params({"fast": 10, "slow": 50}),
        config=BacktestConfig(initial_cash=100_000.0, commission=Bps(10)),
    )
    return loaded.frame, result
