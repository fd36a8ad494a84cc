"""Cross-validation of learners: purging is what keeps scores honest; folds on Dask equal
folds in process; CPCV's paths cover every row once."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.model_selection import KFold

from cift.core.errors import ValidationError
from cift.ml.crossval import Matrix, ValidationPlan, cross_validate, run_fold
from cift.ml.datasets import DatasetSpec, dataset_rows
from cift.ml.labelling import LabelSpec
from cift.ml.models import ModelType
from cift.ml.validation import Split
from tests.conftest import SettingsFactory
from tests.features.reference import random_bars

FAST = {"n_estimators": 60, "num_leaves": 15, "min_child_samples": 20}


def _matrix(label: LabelSpec, features: list[str], rows: int = 3_000, symbols: int = 1) -> Matrix:
    bars = pl.concat([random_bars(rows, seed=7 + i, symbol=f"S{i}") for i in range(symbols)])
    spec = DatasetSpec(features=features, label=label, symbols=[f"S{i}" for i in range(symbols)])
    frame = dataset_rows(bars, spec.feature_set(), spec)
    return Matrix.of(frame, spec.feature_set().columns)


def test_naive_kfold_is_fooled_by_overlapping_labels_and_purged_kfold_is_not() -> None:
    """A random walk has nothing to predict; slow averages tell a bar's neighbours apart,
    and a 60-bar forward return is shared by them. Shuffled K-fold trains on the
    neighbours of every test row and scores well; purged K-fold with an embargo does not."""
    matrix = _matrix(
        LabelSpec(kind="forward_return", horizon=60), ["sma(40)", "ema(80)", "sma(120)"], symbols=3
    )
    plan = ValidationPlan(weighting="none", importance_repeats=0, validation_fraction=0)
    naive = [
        run_fold(matrix, Split(i, train, test, ()), ModelType.LIGHTGBM_CLASSIFIER, FAST, plan)
        for i, (train, test) in enumerate(KFold(5, shuffle=True, random_state=0).split(matrix.x))
    ]
    naive_auc = np.mean([f.metrics["auc"] for f in naive])
    purged = cross_validate(
        matrix, ModelType.LIGHTGBM_CLASSIFIER, FAST, plan.model_copy(update={"embargo": 0.02})
    )
    purged_auc = purged.summary()["auc_mean"]
    assert naive_auc > 0.75
    assert abs(purged_auc - 0.5) < 0.08
    assert naive_auc - purged_auc > 0.2


def test_folds_on_dask_workers_equal_folds_in_process(make_settings: SettingsFactory) -> None:
    matrix = _matrix(
        LabelSpec(kind="triple_barrier", horizon=20, profit_taking=2, stop_loss=1),
        ["rsi(14)", "zscore(20)"],
        rows=1_500,
        symbols=2,
    )
    plan = ValidationPlan(scheme="cpcv", folds=4, test_groups=2, importance_repeats=1)
    here = cross_validate(matrix, ModelType.LIGHTGBM_CLASSIFIER, FAST, plan)
    settings = make_settings(dask_local_workers=1)  # folds leave this process all the same
    there = cross_validate(matrix, ModelType.LIGHTGBM_CLASSIFIER, FAST, plan, settings=settings)
    assert [f.index for f in there.folds] == list(range(6))
    for a, b in zip(here.folds, there.folds, strict=True):
        np.testing.assert_array_equal(a.test_rows, b.test_rows)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-12)
    assert here.summary() == pytest.approx(there.summary(), nan_ok=True)
    paths = here.path_scores()
    assert paths.shape == (3, matrix.x.shape[0])  # φ[4, 2] = 3 paths, each over every row
    assert not np.isnan(paths).any()
    importance = here.importance()
    assert importance.get_column("feature").sort().to_list() == ["rsi", "zscore"]


def test_weights_and_early_stopping_reach_the_learner() -> None:
    matrix = _matrix(
        LabelSpec(kind="forward_return", horizon=30), ["rsi(14)", "roc(10)"], rows=2_000
    )
    plan = ValidationPlan(importance_repeats=0)
    weighted = cross_validate(matrix, ModelType.LIGHTGBM_REGRESSOR, {}, plan)
    unweighted = cross_validate(
        matrix, ModelType.LIGHTGBM_REGRESSOR, {}, plan.model_copy(update={"weighting": "none"})
    )
    assert all(f.best_iteration is not None and f.best_iteration < 500 for f in weighted.folds)
    assert not np.allclose(weighted.folds[0].scores, unweighted.folds[0].scores)
    with pytest.raises(ValidationError, match="Backtest paths come from CPCV"):
        weighted.path_scores()
    spanning = _matrix(LabelSpec(kind="forward_return", horizon=1_200), ["roc(10)"], rows=2_000)
    with pytest.raises(ValidationError, match="no training rows left"):
        cross_validate(spanning, ModelType.RIDGE_REGRESSION, {}, ValidationPlan(folds=4))
