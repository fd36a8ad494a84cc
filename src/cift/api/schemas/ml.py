"""Training jobs, registered models, predictions and lineage records."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cift.ml.jobs import TrainingRequest
from cift.model.fields import Symbol

__all__ = [
    "LineageOut",
    "ModelVersionOut",
    "PredictRequest",
    "PromoteRequest",
    "RegisteredModelOut",
    "TrainingJobOut",
    "TrainingRequest",
]


class TrainingJobOut(BaseModel):
    """A job's state: stage and progress while it runs, the result once it succeeded."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    kind: str
    model_configuration_id: uuid.UUID | None
    request: dict[str, Any]
    status: str = Field(description="queued, running, succeeded, failed or cancelled.")
    stage: str | None = Field(description="dataset, folds, model or logging.")
    progress: float = Field(description="Fraction of the stage done, 0 to 1.")
    result: dict[str, Any] = Field(description="The dataset manifest, or the run's summary.")
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


class RegisteredModelOut(BaseModel):
    name: str
    latest_version: int | None
    aliases: dict[str, int]
    description: str


class ModelVersionOut(BaseModel):
    name: str
    version: int
    run_id: str
    aliases: list[str]
    created_ms: int
    tags: dict[str, str] = Field(description="The training run's cift.* lineage tags.")
    metrics: dict[str, float] = Field(description="The run's summary and out-of-sample metrics.")


class FeatureImportance(BaseModel):
    """One feature's importance in a training run's cross-validation (fold means)."""

    feature: str
    gain: float | None = Field(description="Share of the split gain (LightGBM), or |weight|.")
    permutation: float | None = Field(
        description="Score lost when the feature is shuffled; null when not measured."
    )


class PromoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, ge=1, description="The version; the newest when omitted.")
    alias: str = Field("champion", description="champion or challenger.")


class PredictRequest(BaseModel):
    """Score stored bars with a registered model."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=200)
    version: str = Field("champion", description="A version number or an alias.")
    symbols: list[Symbol] = Field(min_length=1, max_length=100)
    start: datetime | None = Field(None, description="First scored bar (inclusive, UTC).")
    end: datetime | None = Field(None, description="End of the bars read (exclusive, UTC).")


class LineageOut(BaseModel):
    subject: dict[str, Any]
    upstream: list[dict[str, Any]] = Field(description="From the subject back to the data.")
    downstream: list[dict[str, Any]] = Field(description="What was made from the subject.")
