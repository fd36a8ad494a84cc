"""Registered models put to use: load one by name and alias, score bars in one pass.

A model's run says what it was trained on (its features, timeframe and label), so
scoring needs nothing but bars: the features are computed from them exactly as the
dataset computed them, and rows whose features are still warming up score null.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import polars as pl

from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.features.pipeline import FeatureSet, compute_set
from cift.ml.labelling import LabelSpec
from cift.ml.models import Learner, ModelType
from cift.ml.tracking import ModelVersion, mlflow_at, resolve_version
from cift.model import Timeframe


@dataclass(frozen=True)
class TrainedModel:
    """A registered model version, loaded."""

    version: ModelVersion
    model_type: ModelType
    feature_set: FeatureSet
    label: LabelSpec
    learner: Learner

    @property
    def name(self) -> str:
        return self.version.name

    @property
    def lineage(self) -> dict[str, str]:
        """The ``cift.*`` tags of the run that trained it."""
        return self.version.tags

    def score(self, bars: pl.DataFrame) -> pl.DataFrame:
        """``symbol, ts, score`` for every bar (any symbols): the probability that the
        label's outcome is positive (classifiers) or the predicted return; null where a
        feature is undefined. One vectorised pass, no per-bar model call."""
        values = compute_set(bars, self.feature_set)
        x = values.select(pl.col(self.feature_set.columns).cast(pl.Float64)).to_numpy()
        defined = np.isfinite(x).all(axis=1)
        scores = np.full(values.height, np.nan)
        if defined.any():
            scores[defined] = self.learner.score(x[defined])
        scored = values.select("symbol", "ts").with_columns(
            pl.Series("score", scores, nan_to_null=True)
        )
        return bars.select("symbol", "ts").join(
            scored, on=["symbol", "ts"], how="left", maintain_order="left"
        )


def load_model(settings: Settings, name: str, ref: str = "champion") -> TrainedModel:
    """Version ``ref`` (a number or an alias) of the registered model ``name``."""
    version = resolve_version(settings, name, ref)
    tags = version.tags
    try:
        model_type = ModelType(tags["cift.model_type"])
        calls = json.loads(tags["cift.features"])
        timeframe = Timeframe.parse(tags["cift.timeframe"])
        label = LabelSpec.model_validate_json(tags["cift.label"])
    except (KeyError, ValueError):
        raise ValidationError(
            f"{name} version {version.version} was not trained by CIFT (its run lacks the "
            "cift.model_type, cift.features, cift.timeframe and cift.label tags)."
        ) from None
    feature_set = FeatureSet.from_text("model", ",".join(calls), timeframe=timeframe)
    with mlflow_at(settings) as mlflow:
        flavor = getattr(mlflow, model_type.flavor)
        estimator = flavor.load_model(f"models:/{name}/{version.version}")
    learner = Learner(model_type, feature_set.columns, estimator)
    return TrainedModel(version, model_type, feature_set, label, learner)
