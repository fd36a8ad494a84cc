"""Information coefficients per day and the hit rate, against scipy and by hand."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats

from cift.ml.metrics import information_coefficients, score_metrics


def _days(n_days: int, per_day: int) -> pl.Series:
    minutes = np.concatenate([np.arange(per_day) + d * 1_440 for d in range(n_days)])
    return pl.Series("ts", minutes * 60_000_000_000).cast(pl.Datetime("ns", "UTC"))


def test_daily_ic_and_rank_ic_equal_scipy() -> None:
    rng = np.random.default_rng(3)
    ts = _days(5, 50)
    score = rng.normal(size=ts.len())
    ret = 0.3 * score + rng.normal(size=ts.len())
    periods = information_coefficients(ts, score, ret)
    assert periods.height == 5
    for day, row in enumerate(periods.iter_rows(named=True)):
        part = slice(day * 50, (day + 1) * 50)
        assert math.isclose(row["ic"], stats.pearsonr(score[part], ret[part])[0], rel_tol=1e-9)
        assert math.isclose(
            row["rank_ic"], stats.spearmanr(score[part], ret[part])[0], rel_tol=1e-9
        )
    metrics = score_metrics(False, ts, score, ret, ret)
    assert math.isclose(metrics["ic"], periods.get_column("ic").mean())  # type: ignore[arg-type]
    assert math.isclose(
        metrics["ic_ir"],
        metrics["ic"] / periods.get_column("ic").std(),  # type: ignore[operator]
    )


def test_hit_rate_counts_signs_of_rows_that_moved() -> None:
    ts = _days(1, 6)
    probability = np.array([0.9, 0.2, 0.6, 0.4, 0.7, 0.51])
    ret = np.array([0.01, -0.02, -0.01, 0.0, 0.03, 0.02])
    target = (ret > 0).astype(np.int8)
    metrics = score_metrics(True, ts, probability, target, ret)
    # moved: rows 0,1,2,4,5; right: 0 (up), 1 (down), 4 (up), 5 (up); wrong: 2
    assert metrics["hit_rate"] == 4 / 5
    assert metrics["accuracy"] == 5 / 6
    assert math.isnan(score_metrics(True, ts[:2], probability[:2], target[:2], ret[:2])["ic"])
