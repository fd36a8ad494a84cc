"""The vectorised mode matches the event-driven engine on the same rule and fills."""

from __future__ import annotations

import numpy as np
import pytest

from cift.backtest.config import BacktestConfig
from cift.backtest.costs import Bps
from cift.backtest.engine import run_backtest
from cift.backtest.vector import run_grid, run_signal
from cift.data.files import load
from cift.strategy.builtin.sma_cross import SIGNAL, SmaCross
from tests.samples import DATA


@pytest.mark.parametrize("fraction", [1.0, 0.7, 0.25, 1.5])
@pytest.mark.parametrize("fractional", [True, False])
@pytest.mark.parametrize(
    "name", ["daily/nvda-1999-2014.csv", "minute/6EH4-cme-1min-2024-01.csv.gz"]
)
def test_vectorised_equals_event_driven(name: str, fractional: bool, fraction: float) -> None:
    loaded = load(DATA / name)
    params = {"fast": 10, "slow": 50, "fraction": fraction}
    event = run_backtest(
        SmaCross,
        bars=loaded.frame,
        timeframe=loaded.timeframe,
        params=SmaCross.parse_params(params),
        config=BacktestConfig(commission=Bps(10), fractional=fractional),
    )
    vector = run_signal(
        loaded.frame, loaded.timeframe, SIGNAL, params, fee_bps=10, fractional=fractional
    )
    assert vector.fills == event.fills.height
    assert vector.equity.get_column("ts").to_list() == event.equity.get_column("ts").to_list()
    np.testing.assert_allclose(
        vector.equity.get_column("equity").to_numpy(),
        event.equity.get_column("equity").to_numpy(),
        rtol=1e-9,
    )


def test_grid_shares_features_and_covers_every_set() -> None:
    loaded = load(DATA / "daily/orcl-1995-2014.csv")
    grid = [{"fast": f, "slow": s} for f in (5, 10, 20) for s in (50, 100)]
    results = run_grid(loaded.frame, loaded.timeframe, SIGNAL, grid, fee_bps=5)
    assert [r.params for r in results] == grid
    finals = {tuple(r.params.values()): r.equity.get_column("equity")[-1] for r in results}
    assert len(set(finals.values())) == len(grid)
