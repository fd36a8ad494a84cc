"""Cross-validating a learner on a dataset: purged splits, weights, early stopping, metrics.

Every fold trains on its purged, embargoed training rows, weighted by label uniqueness
among them, and stops LightGBM early on the last part of its own training timeline
(purged from the rest, so the stopping point does not leak either). It scores the test
rows and measures them (:mod:`cift.ml.metrics`), with feature importance by gain and by
permutation on the test rows. Folds run one after another in this process, or in
parallel on the Dask cluster that sweeps use (local worker processes by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.core.windows import parse_length
from cift.ml.labelling import LabelSpec
from cift.ml.metrics import score_metrics
from cift.ml.models import Learner, ModelType, learning_target, make_learner
from cift.ml.validation import (
    Intervals,
    Split,
    backtest_paths,
    combinatorial_purged,
    purged_kfold,
    purged_train,
    time_groups,
    walk_forward_splits,
)
from cift.ml.weights import uniqueness_weights

if TYPE_CHECKING:
    from distributed import Client

Progress = Callable[[int, int], None]
"""Called with (folds done, folds in all)."""
Judge = Callable[["CrossValidation", "Matrix", LabelSpec], dict[str, float]]
"""Judges a CPCV's backtest paths (``backtest.model_paths.path_report``): metrics."""


class Scheme(StrEnum):
    PURGED_KFOLD = "purged_kfold"
    CPCV = "cpcv"
    WALK_FORWARD = "walk_forward"


class ValidationPlan(BaseModel):
    """How to cross-validate: the split scheme and what each fold does."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Scheme = Field(Scheme.PURGED_KFOLD, description="purged_kfold, cpcv or walk_forward.")
    folds: int = Field(5, ge=2, le=100, description="Groups of the timeline (K, or CPCV's N).")
    test_groups: int = Field(2, ge=1, le=99, description="CPCV: groups tested at once (k).")
    embargo: float = Field(0.01, ge=0, lt=0.5, description="Timeline fraction after each test.")
    train: str = Field("0", description="Walk-forward: train length, bars (5000) or 30d.")
    test: str = Field("0", description="Walk-forward: test length, bars or a duration.")
    anchored: bool = Field(False, description="Walk-forward: grow the train window.")
    weighting: Literal["uniqueness", "none"] = "uniqueness"
    validation_fraction: float = Field(
        0.1, ge=0, lt=0.5, description="Training timeline's tail LightGBM stops early on."
    )
    importance_repeats: int = Field(3, ge=0, le=100, description="Permutations per feature.")
    seed: int = 0

    def splits(self, intervals: Intervals) -> list[Split]:
        if self.scheme is Scheme.PURGED_KFOLD:
            return purged_kfold(intervals, self.folds, self.embargo)
        if self.scheme is Scheme.CPCV:
            return combinatorial_purged(intervals, self.folds, self.test_groups, self.embargo)
        if self.train == "0" or self.test == "0":
            raise ValidationError(
                "Walk-forward needs --train and --test lengths, e.g. 5000 and 1000."
            )
        return walk_forward_splits(
            intervals,
            parse_length(self.train, "--train"),
            parse_length(self.test, "--test"),
            anchored=self.anchored,
        )


@dataclass(frozen=True)
class Matrix:
    """A dataset as the arrays folds read (row order is the frame's)."""

    features: list[str]
    x: np.ndarray
    fwd_ret: np.ndarray
    fwd_label: np.ndarray
    symbol: np.ndarray
    ts: np.ndarray
    intervals: Intervals

    @classmethod
    def of(cls, frame: pl.DataFrame, features: list[str]) -> Matrix:
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise ValidationError(f"The dataset has no feature column(s) {missing}.")
        return cls(
            features=list(features),
            x=frame.select(pl.col(features).cast(pl.Float64)).to_numpy(),
            fwd_ret=frame.get_column("fwd_ret").cast(pl.Float64).to_numpy(),
            fwd_label=frame.get_column("fwd_label").cast(pl.Int8).to_numpy(),
            symbol=frame.get_column("symbol").to_numpy(),
            ts=frame.get_column("ts").cast(pl.Datetime("ns", "UTC")).cast(pl.Int64).to_numpy(),
            intervals=Intervals.of(frame),
        )

    def times(self, rows: np.ndarray) -> pl.Series:
        return pl.Series("ts", self.ts[rows]).cast(pl.Datetime("ns", "UTC"))


@dataclass
class FoldResult:
    index: int
    groups: tuple[int, ...]
    train_rows: int
    test_rows: np.ndarray
    scores: np.ndarray
    metrics: dict[str, float]
    gain: dict[str, float]
    permutation: dict[str, float]
    best_iteration: int | None


@dataclass
class CrossValidation:
    """Every fold's outcome, their summary and the out-of-sample scores."""

    plan: ValidationPlan
    model_type: ModelType
    rows: int
    row_groups: np.ndarray
    folds: list[FoldResult]
    overall: dict[str, float] = field(default_factory=dict)
    judged: dict[str, float] = field(default_factory=dict)
    """What a judge of the backtest paths found (``cpcv_*``: DSR, PBO), when asked."""

    def summary(self) -> dict[str, float]:
        """Mean and standard deviation across folds of each metric (``auc_mean``, ...),
        and the pooled out-of-sample metrics (``oos_auc``, ...)."""
        out: dict[str, float] = {}
        for name in self.folds[0].metrics:
            values = np.array([f.metrics[name] for f in self.folds], dtype=float)
            finite = values[np.isfinite(values)]
            out[f"{name}_mean"] = float(finite.mean()) if finite.size else math.nan
            out[f"{name}_std"] = float(finite.std(ddof=1)) if finite.size > 1 else math.nan
        return out | {f"oos_{k}": v for k, v in self.overall.items()} | self.judged

    def importance(self) -> pl.DataFrame:
        """``feature, gain, permutation``: means across folds, largest gain first."""
        names = list(self.folds[0].gain)
        gain = np.array([[f.gain[n] for n in names] for f in self.folds]).mean(axis=0)
        perm = np.array([[f.permutation.get(n, math.nan) for n in names] for f in self.folds])
        permutation = np.nanmean(perm, axis=0) if np.isfinite(perm).any() else perm[0]
        frame = pl.DataFrame({"feature": names, "gain": gain, "permutation": permutation})
        return frame.sort("gain", descending=True)

    def path_scores(self) -> np.ndarray:
        """CPCV: ``scores[p, row]``, backtest path ``p``'s out-of-sample score of each
        row (every path covers every row once, group by group)."""
        if self.plan.scheme is not Scheme.CPCV:
            raise ValidationError("Backtest paths come from CPCV; cross-validate with cpcv.")
        by_split = {f.index: f for f in self.folds}
        paths = backtest_paths(self.plan.folds, self.plan.test_groups)
        scores = np.full((paths.shape[0], self.rows), np.nan)
        for p, path in enumerate(paths):
            for group, split in enumerate(path):
                fold = by_split[int(split)]
                mine = self.row_groups[fold.test_rows] == group
                scores[p, fold.test_rows[mine]] = fold.scores[mine]
        return scores


def fit_learner(
    matrix: Matrix,
    rows: np.ndarray,
    model_type: ModelType,
    hyperparameters: dict[str, Any],
    plan: ValidationPlan,
    n_jobs: int = 0,
) -> Learner:
    """A learner fitted on ``rows`` (sorted positions): weights by uniqueness among
    them; LightGBM stops early on their timeline's tail, purged from the rest."""
    learner = make_learner(model_type, matrix.features, hyperparameters, n_jobs)
    y = learner.target(matrix.fwd_ret, matrix.fwd_label)
    weights = (
        uniqueness_weights(
            matrix.symbol[rows], matrix.intervals.start[rows], matrix.intervals.end[rows]
        )
        if plan.weighting == "uniqueness"
        else np.ones(rows.size)
    )
    fit, stop = early_stopping_split(matrix, rows, plan, model_type)
    validation = None
    if stop.size:
        validation = (matrix.x[rows[stop]], y[rows[stop]], weights[stop])
    return learner.fit(matrix.x[rows[fit]], y[rows[fit]], weights[fit], validation)


def early_stopping_split(
    matrix: Matrix, rows: np.ndarray, plan: ValidationPlan, model_type: ModelType
) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``rows`` to fit on and to stop early on (none for linear models)."""
    everything = np.arange(rows.size)
    if model_type.flavor != "lightgbm" or not plan.validation_fraction:
        return everything, everything[:0]
    inner = Intervals(matrix.intervals.start[rows], matrix.intervals.end[rows])
    timeline = inner.timeline
    cut = timeline[min(int(timeline.size * (1 - plan.validation_fraction)), timeline.size - 1)]
    stop = inner.start >= cut
    return purged_train(inner, stop, 0.0, timeline), np.flatnonzero(stop)


def run_fold(
    matrix: Matrix,
    split: Split,
    model_type: ModelType,
    hyperparameters: dict[str, Any],
    plan: ValidationPlan,
    n_jobs: int = 0,
) -> FoldResult:
    """Train on the split's training rows, score and measure its test rows."""
    learner = fit_learner(matrix, split.train, model_type, hyperparameters, plan, n_jobs)
    test = split.test
    scores = learner.score(matrix.x[test])
    target = learner.target(matrix.fwd_ret, matrix.fwd_label)[test]
    metrics = score_metrics(
        model_type.classifies, matrix.times(test), scores, target, matrix.fwd_ret[test]
    )
    return FoldResult(
        index=split.index,
        groups=split.groups,
        train_rows=int(split.train.size),
        test_rows=test,
        scores=scores,
        metrics=metrics,
        gain=learner.importance(),
        permutation=_permutation(learner, matrix.x[test], target, plan),
        best_iteration=learner.best_iteration,
    )


def _permutation(
    learner: Learner, x: np.ndarray, target: np.ndarray, plan: ValidationPlan
) -> dict[str, float]:
    """Mean drop of the test score when one feature's values are shuffled (AUC for
    classifiers, mean squared error for regressors); empty when it cannot be measured."""
    classifies = learner.model_type.classifies
    if not plan.importance_repeats or (classifies and np.unique(target).size < 2):
        return {}
    from sklearn.inspection import permutation_importance

    result = permutation_importance(
        learner.estimator,
        x,
        target,
        scoring="roc_auc" if classifies else "neg_mean_squared_error",
        n_repeats=plan.importance_repeats,
        random_state=plan.seed,
    )
    return dict(zip(learner.features, map(float, result.importances_mean), strict=True))


def cross_validate(
    matrix: Matrix,
    model_type: ModelType,
    hyperparameters: dict[str, Any],
    plan: ValidationPlan,
    *,
    settings: Settings | None = None,
    client: Client | None = None,
    progress: Progress | None = None,
) -> CrossValidation:
    """Every split of ``plan`` over ``matrix``: in this process, or (``settings`` or a
    ``client`` given) in parallel on Dask workers."""
    splits = plan.splits(matrix.intervals)
    for split in splits:
        if not split.train.size or not split.test.size:
            raise ValidationError(
                f"Split {split.index} has no {'training' if split.test.size else 'test'} rows "
                "left after purging and the embargo; use fewer folds, a smaller embargo or "
                "a shorter label horizon."
            )
    args = (model_type, dict(hyperparameters), plan)
    folds: list[FoldResult] = []
    if settings is None and client is None:
        for split in splits:
            folds.append(run_fold(matrix, split, *args))
            if progress is not None:
                progress(len(folds), len(splits))
    else:
        folds = _on_dask(matrix, splits, args, settings or Settings(), client, progress)
    folds.sort(key=lambda f: f.index)
    groups = (
        time_groups(matrix.intervals, plan.folds)
        if plan.scheme is not Scheme.WALK_FORWARD
        else np.zeros(matrix.x.shape[0], dtype=np.int64)
    )
    result = CrossValidation(plan, model_type, matrix.x.shape[0], groups, folds)
    result.overall = _pooled(matrix, folds, model_type)
    return result


def _on_dask(
    matrix: Matrix,
    splits: list[Split],
    args: tuple[Any, ...],
    settings: Settings,
    client: Client | None,
    progress: Progress | None,
) -> list[FoldResult]:
    from cift.core.cluster import Completed, scatter, using

    folds: list[FoldResult] = []
    with using(settings, client) as dask:
        data = scatter(dask, matrix)
        futures = [dask.submit(run_fold, data, s, *args, 1, pure=False) for s in splits]
        for future in Completed(futures):
            folds.append(future.result())
            if progress is not None:
                progress(len(folds), len(splits))
    return folds


def _pooled(matrix: Matrix, folds: list[FoldResult], model_type: ModelType) -> dict[str, float]:
    """Metrics of each tested row's mean out-of-sample score (once per row)."""
    rows = np.concatenate([f.test_rows for f in folds])
    scores = np.concatenate([f.scores for f in folds])
    total = np.bincount(rows, weights=scores, minlength=matrix.x.shape[0])
    count = np.bincount(rows, minlength=matrix.x.shape[0])
    tested = np.flatnonzero(count)
    mean = total[tested] / count[tested]
    target = learning_target(model_type, matrix.fwd_ret, matrix.fwd_label)
    return score_metrics(
        model_type.classifies, matrix.times(tested), mean, target[tested], matrix.fwd_ret[tested]
    )
