"""Your model configurations: save (a new version per save), list, read, archive."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from cift.db.models import ModelConfiguration
from cift.ml import configurations

from ..deps import State
from ..schemas.models import ModelChanges, ModelOut, ModelSpec
from ..schemas.problem import Problem
from ..security import ReadAccess, TradeAccess
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/models", tags=["models"])


@router.get("", summary="Your model configurations, newest first")
def list_models(
    state: State,
    who: ReadAccess,
    name: Annotated[str | None, Query(max_length=100, description="Only this name.")] = None,
) -> list[ModelOut]:
    where = [ModelConfiguration.name == name] if name is not None else []
    rows = configurations.configurations(state.db).list(who.user_id, *where)
    return [ModelOut.model_validate(m) for m in rows]


@router.post(
    "",
    summary="Save a model configuration",
    status_code=status.HTTP_201_CREATED,
    responses={409: {"model": Problem, "description": "Saved concurrently: save again."}},
)
def save_model(state: State, who: TradeAccess, body: ModelSpec) -> ModelOut:
    """Features are checked against the catalog (GET /api/v1/features); saving a name
    you already have adds its next version."""
    return ModelOut.model_validate(configurations.save_configuration(state.db, who.user_id, body))


@router.get("/{model_id}", summary="One of your model configurations")
def get_model(state: State, who: ReadAccess, model_id: uuid.UUID) -> ModelOut:
    row = configurations.configurations(state.db).get(model_id, who.user_id)
    return ModelOut.model_validate(row)


@router.patch("/{model_id}", summary="Describe or archive a model configuration")
def change_model(
    state: State, who: TradeAccess, model_id: uuid.UUID, body: ModelChanges
) -> ModelOut:
    """Training and deployment set the other states; here: draft or archived."""
    values = body.model_dump()
    row = configurations.configurations(state.db).change(model_id, who.user_id, **values)
    return ModelOut.model_validate(row)


@router.delete("/{model_id}", summary="Delete one of your model configurations")
def delete_model(state: State, who: TradeAccess, model_id: uuid.UUID) -> ModelOut:
    """Backtests that used it keep their record (their link is cleared)."""
    row = configurations.configurations(state.db).remove(model_id, who.user_id)
    return ModelOut.model_validate(row)
