"""A model's CPCV backtest paths: daily bet returns by hand, and the overfitting report."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from cift.backtest.model_paths import EDGES, daily_bet_returns, path_report
from cift.ml.crossval import CrossValidation, Matrix, ValidationPlan, cross_validate
from cift.ml.datasets import DatasetSpec, dataset_rows
from cift.ml.labelling import LabelSpec
from cift.ml.models import ModelType
from tests.features.reference import random_bars

LABEL = LabelSpec(kind="triple_barrier", horizon=20, profit_taking=1.0, stop_loss=1.0)


def _cpcv() -> tuple[Matrix, CrossValidation]:
    bars = pl.concat([random_bars(12_000, seed=20 + i, symbol=f"S{i}") for i in range(2)])
    spec = DatasetSpec(features=["rsi(14)", "roc(10)"], label=LABEL, symbols=["S0", "S1"])
    matrix = Matrix.of(dataset_rows(bars, spec.feature_set(), spec), spec.feature_set().columns)
    plan = ValidationPlan(scheme="cpcv", folds=6, test_groups=2, importance_repeats=0)
    return matrix, cross_validate(matrix, ModelType.LOGISTIC_REGRESSION, {}, plan)


def test_daily_bet_returns_are_each_days_mean_bet_outcome() -> None:
    matrix, cv = _cpcv()
    returns = daily_bet_returns(cv, matrix, LABEL)
    scores = cv.path_scores()
    assert returns.shape[0] == scores.shape[0] == 5  # φ[6, 2] = C(5, 1)
    for path, k in ((0, 0), (3, 2), (4, 4)):
        level = 0.5 + EDGES[k]  # break-even of symmetric barriers
        frame = pl.DataFrame(
            {
                "day": pl.Series(matrix.ts).cast(pl.Datetime("ns", "UTC")).dt.date(),
                "bet": np.where(scores[path] > level, matrix.fwd_ret, 0.0),
            }
        )
        by_day = frame.group_by("day").agg(pl.col("bet").mean()).sort("day")
        np.testing.assert_allclose(returns[path, :, k], by_day.get_column("bet").to_numpy())


def test_the_report_judges_the_best_edge_among_the_paths() -> None:
    matrix, cv = _cpcv()
    report = path_report(cv, matrix, LABEL)
    assert report["cpcv_paths"] == 5
    assert report["cpcv_best_edge"] in EDGES
    assert 0.0 <= report["cpcv_pbo"] <= 1.0
    assert 0.0 <= report["cpcv_dsr"] <= 1.0
    assert report["cpcv_path_sharpe_min"] <= report["cpcv_path_sharpe_mean"]
    assert math.isfinite(report["cpcv_path_sharpe_std"])


def test_paths_too_short_to_judge_say_so_without_failing_the_run() -> None:
    matrix, cv = _cpcv()
    days = matrix.ts // 86_400_000_000_000
    first = days == days.min()
    short = Matrix(
        matrix.features,
        matrix.x,
        matrix.fwd_ret,
        matrix.fwd_label,
        matrix.symbol,
        np.where(first, matrix.ts, matrix.ts[first].max()),
        matrix.intervals,
    )  # every row on one of two days
    report = path_report(cv, short, LABEL)
    assert report["cpcv_paths"] == 5
    assert math.isnan(report["cpcv_pbo"])
    assert math.isnan(report["cpcv_dsr"])
