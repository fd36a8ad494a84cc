"""Training jobs, the registry, predictions and lineage for the API (owner-scoped)."""

from __future__ import annotations

import uuid
from typing import Any

import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.data.store import MarketStore
from cift.lineage.record import lineage
from cift.ml import tracking
from cift.ml.inference import load_model
from cift.model import DataKind

from ..schemas.ml import PredictRequest

Sessions = sessionmaker[Session]
MAX_SCORED_ROWS = 200_000


def versions(settings: Settings, name: str, owner: uuid.UUID) -> list[dict[str, Any]]:
    tracking.owned_by(settings, name, owner)
    return [v.to_dict() for v in tracking.model_versions(settings, name)]


def importance(
    settings: Settings, name: str, version: int, owner: uuid.UUID
) -> list[dict[str, Any]]:
    tracking.owned_by(settings, name, owner)
    return tracking.importance(settings, name, version)


def promote(
    settings: Settings, name: str, version: int | None, alias: str, owner: uuid.UUID
) -> None:
    """Point ``alias`` at ``version`` (the newest when None) of the owner's model."""
    tracking.owned_by(settings, name, owner)
    if version is None:
        version = tracking.model_versions(settings, name)[0].version
    tracking.promote(settings, name, version, alias)


def predict(
    settings: Settings, store: MarketStore, request: PredictRequest, owner: uuid.UUID
) -> dict[str, Any]:
    """Scores of the request's bars, at most :data:`MAX_SCORED_ROWS`."""
    tracking.owned_by(settings, request.model, owner)
    model = load_model(settings, request.model, request.version)
    bars = store.read(
        DataKind.BARS,
        symbols=list(request.symbols),
        end=request.end,
        timeframe=model.feature_set.timeframe,
    ).collect()
    scores = model.score(bars)
    if request.start is not None:
        scores = scores.filter(pl.col("ts") >= request.start)
    if scores.height > MAX_SCORED_ROWS:
        raise ValidationError(
            f"{scores.height:,} bars to score is over {MAX_SCORED_ROWS:,}; narrow the range "
            "or the symbols (or use 'cift ml predict' for files)."
        )
    return {
        "model": request.model,
        "version": model.version.version,
        "scores": scores.with_columns(pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%SZ")).to_dicts(),
    }


def lineage_record(settings: Settings, db: Sessions, owner: uuid.UUID, ref: str) -> dict[str, Any]:
    return lineage(settings, db, owner, ref).to_dict()
