"""Model configurations as their owner sees them (requests are the domain's own models)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cift.ml.configurations import ModelChanges, ModelSpec

__all__ = ["ModelChanges", "ModelOut", "ModelSpec"]


class ModelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    version: int
    model_type: str
    feature_set: str | None = Field(description="The features' set id (name-digest).")
    feature_set_hash: str | None = Field(description="SHA-256 of the canonical features.")
    parameters: dict[str, Any] = Field(description="Features, label and hyper-parameters.")
    metrics: dict[str, Any]
    mlflow_run_id: str | None
    status: str
    description: str | None
    created_at: datetime
    updated_at: datetime
