"""Machine learning: training jobs, registered models and predictions."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from fastapi.responses import JSONResponse

from cift.ml import tracking
from cift.ml.datasets import dataset_root, list_datasets
from cift.ml.jobs import training_jobs

from ..deps import State
from ..schemas.ml import (
    FeatureImportance,
    ModelVersionOut,
    PredictRequest,
    PromoteRequest,
    RegisteredModelOut,
    TrainingJobOut,
    TrainingRequest,
)
from ..schemas.problem import Problem
from ..security import ReadAccess, TradeAccess
from ..services import ml
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/ml", tags=["ml"])


@router.post("/jobs", status_code=status.HTTP_202_ACCEPTED, summary="Build, validate or train")
def submit(state: State, who: TradeAccess, request: TrainingRequest) -> Any:
    """Queue a dataset build, a cross-validation or a training run of one of your
    configurations; poll its URL for the stage, progress and result."""
    job = state.training.submit(who.user_id, request)
    body = TrainingJobOut.model_validate(job).model_dump(mode="json")
    return JSONResponse(
        body,
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"{router.prefix}/jobs/{job.id}"},
    )


@router.get("/jobs", summary="Your training jobs, newest first")
def jobs(state: State, who: ReadAccess) -> list[TrainingJobOut]:
    return [TrainingJobOut.model_validate(j) for j in training_jobs(state.db).list(who.user_id)]


@router.get("/jobs/{job_id}", summary="One of your training jobs")
def job(state: State, who: ReadAccess, job_id: uuid.UUID) -> TrainingJobOut:
    return TrainingJobOut.model_validate(training_jobs(state.db).get(job_id, who.user_id))


@router.get("/datasets", summary="Datasets built on this server, newest first")
def datasets(state: State, who: ReadAccess) -> list[dict[str, Any]]:
    """Manifests: hashes (dataset, data snapshot, feature set), spec, rows, span."""
    del who
    return list_datasets(dataset_root(state.settings))


@router.get("/models", summary="Your registered models")
def models(state: State, who: ReadAccess) -> list[RegisteredModelOut]:
    found = tracking.registered_models(state.settings, who.user_id)
    return [RegisteredModelOut.model_validate(m) for m in found]


@router.get("/models/{name}", summary="The versions of one of your registered models")
def versions(state: State, who: ReadAccess, name: str) -> list[ModelVersionOut]:
    found = ml.versions(state.settings, name, who.user_id)
    return [ModelVersionOut.model_validate(v) for v in found]


@router.get(
    "/models/{name}/versions/{version}/importance",
    summary="Feature importance of one version's training run",
)
def importance(
    state: State, who: ReadAccess, name: str, version: Annotated[int, Path(ge=1)]
) -> list[FeatureImportance]:
    """Per feature: importance by gain and by permutation (means over the folds), as the
    cross-validation measured it, largest gain first."""
    rows = ml.importance(state.settings, name, version, who.user_id)
    return [FeatureImportance.model_validate(row) for row in rows]


@router.post("/models/{name}/promote", summary="Point an alias at a version")
def promote(
    state: State, who: TradeAccess, name: str, body: PromoteRequest
) -> list[ModelVersionOut]:
    """``champion`` is what the model strategy trades unless told otherwise."""
    ml.promote(state.settings, name, body.version, body.alias, who.user_id)
    found = ml.versions(state.settings, name, who.user_id)
    return [ModelVersionOut.model_validate(v) for v in found]


@router.post(
    "/predict",
    summary="Score stored bars with a registered model",
    responses={404: {"model": Problem, "description": "No such registered model or version."}},
)
def predict(state: State, who: ReadAccess, body: PredictRequest) -> dict[str, Any]:
    return ml.predict(state.settings, state.store, body, who.user_id)
