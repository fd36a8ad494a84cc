"""Training a model configuration: dataset, cross-validation, final model, MLflow run.

``cift ml cv`` and ``cift ml train`` (and the API's jobs) call :func:`run_training`: it
builds the configuration's point-in-time dataset over the symbols and range asked for,
cross-validates the learner with purged splits, and logs one MLflow run with the
parameters, every fold's metrics, the summary, the lineage tags and the out-of-sample
predictions. Training then fits the final model on every row, logs it with its
signature, registers it under the configuration's name (alias ``challenger``), and
links the configuration to the run.
"""

from __future__ import annotations

import math
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import NotFoundError
from cift.core.settings import Settings
from cift.core.tracing import span
from cift.core.version import code_version
from cift.db.models import ModelConfiguration, ModelStatus
from cift.ml.configurations import configurations
from cift.ml.crossval import (
    CrossValidation,
    Judge,
    Matrix,
    Scheme,
    ValidationPlan,
    cross_validate,
    fit_learner,
)
from cift.ml.datasets import Dataset, DatasetSpec, build_configured
from cift.ml.labelling import LabelSpec
from cift.ml.models import Learner, ModelType, make_learner
from cift.ml.telemetry import TRAINING_DURATION, TRAINING_RUNS
from cift.ml.tracking import CHALLENGER, claim_name, experiment_id, mlflow_at, tags_of

Progress = Callable[[str, float], None]
"""Called with (stage, fraction of that stage done): dataset, folds, model, logging."""
EXPERIMENT = "cift"


@dataclass(frozen=True)
class TrainingOutcome:
    """What a cross-validation or training run produced and where it was logged."""

    configuration: ModelConfiguration
    dataset: Dataset
    cv: CrossValidation
    run_id: str
    model_version: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "configuration": {
                "id": str(self.configuration.id),
                "name": self.configuration.name,
                "version": self.configuration.version,
                "model_type": self.configuration.model_type,
            },
            "dataset_hash": self.dataset.dataset_hash,
            "data_hash": self.dataset.data_hash,
            "feature_set_sha": self.dataset.feature_set_sha,
            "rows": self.dataset.rows,
            "folds": len(self.cv.folds),
            "metrics": finite(self.cv.summary()),
            "mlflow_run_id": self.run_id,
            "model": self.configuration.name if self.model_version else None,
            "model_version": self.model_version,
        }


def find_configuration(
    db: sessionmaker[Session], owner: uuid.UUID, name: str, version: int | None = None
) -> ModelConfiguration:
    """The owner's configuration ``name`` (its newest version unless told)."""
    rows = configurations(db).list(owner, ModelConfiguration.name == name)
    if version is not None:
        rows = [r for r in rows if r.version == version]
    if not rows:
        which = f"{name!r}" + (f" version {version}" if version is not None else "")
        raise NotFoundError(f"No model configuration {which}; see 'cift ml config ls'.")
    return max(rows, key=lambda r: r.version)


def dataset_spec(
    row: ModelConfiguration, symbols: list[str], start: datetime | None, end: datetime | None
) -> DatasetSpec:
    """The dataset a configuration learns from, over ``symbols`` and ``[start, end)``."""
    features = row.parameters["features"]
    return DatasetSpec(
        features=list(features["features"]),
        timeframe=features["timeframe"],
        label=LabelSpec.model_validate(row.parameters["label"]),
        symbols=symbols,
        start=start,
        end=end,
    )


def run_training(
    settings: Settings,
    db: sessionmaker[Session],
    row: ModelConfiguration,
    spec: DatasetSpec,
    plan: ValidationPlan,
    *,
    register: bool = True,
    parallel: bool = False,
    progress: Progress | None = None,
    judge: Judge | None = None,
) -> TrainingOutcome:
    """Cross-validate ``row`` on ``spec``'s dataset and log the run; with ``register``,
    fit the final model on every row and register it too. A ``judge`` reports on CPCV's
    backtest paths (the deflated Sharpe ratio and PBO of ``backtest.model_paths``)."""
    attributes = {"cift.model": row.name, "cift.model_type": row.model_type}
    with span("training run", attributes), TRAINING_DURATION.time():
        try:
            outcome = _train(settings, db, row, spec, plan, register, parallel, progress, judge)
        except BaseException:
            TRAINING_RUNS.labels("failed").inc()
            raise
    TRAINING_RUNS.labels("done").inc()
    return outcome


def _train(
    settings: Settings,
    db: sessionmaker[Session],
    row: ModelConfiguration,
    spec: DatasetSpec,
    plan: ValidationPlan,
    register: bool,
    parallel: bool,
    progress: Progress | None,
    judge: Judge | None,
) -> TrainingOutcome:
    tell = progress or (lambda stage, fraction: None)
    model_type = ModelType(row.model_type)
    hyperparameters = dict(row.parameters.get("hyperparameters", {}))
    make_learner(model_type, ["x"], hyperparameters)  # refuse bad settings before any work
    dataset = build_configured(settings, spec, lambda d, n: tell("dataset", d / n))
    matrix = Matrix.of(dataset.frame().collect(), dataset.features)
    cv = cross_validate(
        matrix,
        model_type,
        hyperparameters,
        plan,
        settings=settings if parallel else None,
        progress=lambda d, n: tell("folds", d / n),
    )
    if judge is not None and plan.scheme is Scheme.CPCV:
        cv.judged = judge(cv, matrix, spec.label)
    learner = None
    if register:
        tell("model", 0.0)
        learner = fit_learner(matrix, np.arange(dataset.rows), model_type, hyperparameters, plan)
        tell("model", 1.0)
    tell("logging", 0.0)
    run_id, version = log_run(settings, row, dataset, matrix, cv, learner, hyperparameters)
    tell("logging", 1.0)
    changes: dict[str, Any] = {"mlflow_run_id": run_id, "metrics": finite(cv.summary())}
    if register:
        changes["status"] = ModelStatus.TRAINED
    updated = configurations(db).change(row.id, row.user_id, **changes)
    return TrainingOutcome(updated, dataset, cv, run_id, version)


def finite(values: dict[str, float]) -> dict[str, float | None]:
    """Metrics for JSON: NaN and infinities (undefined metrics) as null."""
    return {k: (v if math.isfinite(v) else None) for k, v in values.items()}


def log_run(
    settings: Settings,
    row: ModelConfiguration,
    dataset: Dataset,
    matrix: Matrix,
    cv: CrossValidation,
    learner: Learner | None,
    hyperparameters: dict[str, Any],
) -> tuple[str, int | None]:
    """One MLflow run of ``cv`` (and, with a ``learner``, its registered model): the run
    id and the model's version."""
    with mlflow_at(settings) as mlflow:
        experiment = experiment_id(mlflow, settings, EXPERIMENT)
        kind = "train" if learner is not None else "cv"
        name = f"{row.name} v{row.version} {kind}"
        with mlflow.start_run(experiment_id=experiment, run_name=name) as run:
            mlflow.set_tags(_lineage(row, dataset, kind))
            mlflow.log_params(_params(row, cv, hyperparameters, dataset))
            for fold in cv.folds:
                for metric, value in fold.metrics.items():
                    if math.isfinite(value):
                        mlflow.log_metric(f"fold_{metric}", value, step=fold.index)
            mlflow.log_metrics({k: v for k, v in cv.summary().items() if math.isfinite(v)})
            _log_artifacts(mlflow, dataset, matrix, cv)
            version = _log_model(mlflow, row, learner) if learner is not None else None
            return str(run.info.run_id), version


def _lineage(row: ModelConfiguration, dataset: Dataset, kind: str) -> dict[str, str]:
    spec = dataset.spec
    return tags_of(
        {
            "kind": kind,
            "model_type": row.model_type,
            "configuration_id": str(row.id),
            "configuration": f"{row.name}:{row.version}",
            "dataset_hash": dataset.dataset_hash,
            "data_hash": dataset.data_hash,
            "feature_set_sha": dataset.feature_set_sha,
            "label": spec.label.content,
            "features": spec.feature_set().content["features"],
            "symbols": dataset.symbols,
            "timeframe": spec.timeframe,
            "start": spec.start.isoformat() if spec.start else "",
            "end": spec.end.isoformat() if spec.end else "",
            "trained_from": dataset.span[0],
            "trained_to": dataset.span[1],
            "code_version": code_version(),
        }
    )


def _params(
    row: ModelConfiguration, cv: CrossValidation, hyperparameters: dict[str, Any], dataset: Dataset
) -> dict[str, Any]:
    learner = make_learner(ModelType(row.model_type), dataset.features, hyperparameters)
    estimator = learner.estimator[-1] if hasattr(learner.estimator, "steps") else learner.estimator
    simple = (int, float, str, bool, type(None))
    model = {f"model.{k}": v for k, v in estimator.get_params().items() if isinstance(v, simple)}
    plan = {f"cv.{k}": v for k, v in cv.plan.model_dump(mode="json").items()}
    label = {f"label.{k}": v for k, v in dataset.spec.label.content.items()}
    return {
        "model_type": row.model_type,
        "features": len(dataset.features),
        "rows": dataset.rows,
        "early_stopping_rounds": learner.early_stopping_rounds,
        **model,
        **plan,
        **label,
    }


def _log_artifacts(
    mlflow: ModuleType, dataset: Dataset, matrix: Matrix, cv: CrossValidation
) -> None:
    from cift.ml.report import importance_figure

    importance = cv.importance()
    folds = [
        {
            "index": f.index,
            "groups": list(f.groups),
            "train_rows": f.train_rows,
            "test_rows": int(f.test_rows.size),
            "best_iteration": f.best_iteration,
            "metrics": finite(f.metrics),
        }
        for f in cv.folds
    ]
    mlflow.log_dict(dataset.manifest(), "dataset.json")
    mlflow.log_dict({"folds": folds}, "folds.json")
    mlflow.log_dict({"importance": importance.to_dicts()}, "importance.json")
    mlflow.log_figure(importance_figure(importance), "importance.html")
    rows = np.concatenate([f.test_rows for f in cv.folds])
    predictions = pl.DataFrame(
        {
            "symbol": matrix.symbol[rows],
            "ts": matrix.times(rows),
            "fold": np.concatenate([np.full(f.test_rows.size, f.index) for f in cv.folds]),
            "score": np.concatenate([f.scores for f in cv.folds]),
        }
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "predictions.parquet"
        predictions.write_parquet(path)
        mlflow.log_artifact(str(path))


def _log_model(mlflow: ModuleType, row: ModelConfiguration, learner: Learner) -> int:
    import lightgbm
    import sklearn
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    signature = ModelSignature(
        inputs=Schema([ColSpec("double", name) for name in learner.features]),
        outputs=Schema([ColSpec("double")]),
    )
    lightgbm_model = learner.model_type.flavor == "lightgbm"
    library = (
        f"lightgbm=={lightgbm.__version__}"
        if lightgbm_model
        else f"scikit-learn=={sklearn.__version__}"
    )
    requirements = [library, f"numpy=={np.__version__}"]
    claim_name(mlflow, row.name, row.user_id)
    flavor = getattr(mlflow, learner.model_type.flavor)
    info = flavor.log_model(
        # LightGBM's booster is saved in its own text format: safe to load, and no skops
        # (seconds of import in every process that saves or loads a model).
        learner.booster if lightgbm_model else learner.estimator,
        name="model",
        signature=signature,
        pip_requirements=requirements,
        metadata={"cift_model_type": learner.model_type.value, "cift_features": learner.features},
    )
    # Registered through the client: registering from log_model prints its own lines.
    client = mlflow.MlflowClient()
    version = int(
        client.create_model_version(row.name, info.model_uri, model_id=info.model_id).version
    )
    client.set_registered_model_alias(row.name, CHALLENGER, str(version))
    return version
