"""Lineage: from a backtest, model, run, configuration, dataset or data snapshot, both ways."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import State
from ..schemas.ml import LineageOut
from ..security import ReadAccess
from ..services import ml
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/lineage", tags=["lineage"])


@router.get("/{ref:path}", summary="The lineage record around a reference")
def record(state: State, who: ReadAccess, ref: str) -> LineageOut:
    """``ref``: a backtest id, ``NAME/VERSION`` or ``NAME@alias`` of a model, an MLflow
    run id, a configuration id, ``dataset:HASH`` or ``data:HASH``."""
    found = ml.lineage_record(state.settings, state.db, who.user_id, ref)
    return LineageOut.model_validate(found)
