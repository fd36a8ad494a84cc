"""MLflow: every training run logged, every trained model in the registry.

The embedded default is a local store under ``<CIFT_HOME>/mlflow`` (runs and registry in
SQLite, artifacts beside it); ``CIFT_MLFLOW_TRACKING_URI`` points at a tracking server
instead. Runs carry what a model's lineage needs as tags (``cift.dataset_hash``,
``cift.data_hash``, ``cift.feature_set_sha``, ``cift.label``, ``cift.code_version``);
models are registered under their configuration's name, a new version taking the alias
``challenger`` until it is promoted to ``champion``.
"""

from __future__ import annotations

import json
import math
import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from cift.core.errors import (
    ConfigurationError,
    ConflictError,
    NotFoundError,
    UpstreamError,
    ValidationError,
)
from cift.core.settings import Settings
from cift.core.tls import client_context

CHAMPION, CHALLENGER = "champion", "challenger"
ALIASES = (CHAMPION, CHALLENGER)
TAG = "cift."


def local_store(settings: Settings) -> Path:
    """The local store's SQLite file (made on first use)."""
    return (settings.home / "mlflow" / "mlflow.db").resolve()


def tracking_uri(settings: Settings) -> str:
    """The configured server, or the local SQLite store."""
    if settings.mlflow_tracking_uri:
        return settings.mlflow_tracking_uri.rstrip("/")
    store = local_store(settings)
    store.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{store}"


def nothing_tracked(settings: Settings) -> bool:
    """No server and no local store yet: a read finds nothing, and answers so without
    importing MLflow or making the store (its migrations of a new store take seconds)."""
    return not settings.mlflow_tracking_uri and not local_store(settings).exists()


@contextmanager
def mlflow_at(settings: Settings) -> Iterator[ModuleType]:
    """The ``mlflow`` module pointed at this installation's tracking store; its errors
    (a server down, a bad answer) end as CIFT errors."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    try:
        with warnings.catch_warnings():
            # mlflow.pyfunc warns at import about its own agent schemas' type hints
            warnings.filterwarnings("ignore", ".*Any type hint", UserWarning)
            import mlflow
            import mlflow.pyfunc
        from mlflow.exceptions import MlflowException
    except ImportError:
        raise ConfigurationError(
            "Tracking needs MLflow; install it with pip install 'cift[ml]'."
        ) from None
    uri = tracking_uri(settings)
    if uri.startswith(("http://", "https://")):
        _check_server(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        yield mlflow
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise NotFoundError(f"MLflow has no such object: {exc.message}") from None
        raise UpstreamError(f"MLflow at {uri} refused the request: {exc.message}") from None


def _check_server(uri: str) -> None:
    try:
        answer = httpx.get(f"{uri}/health", timeout=5, verify=client_context())
    except httpx.HTTPError as exc:
        raise UpstreamError(
            f"Cannot reach the MLflow server at {uri} ({type(exc).__name__}); start it, or "
            "unset CIFT_MLFLOW_TRACKING_URI to track in the local store."
        ) from None
    if answer.status_code != 200:
        raise UpstreamError(f"The MLflow server at {uri} answers {answer.status_code} to /health.")


def experiment_id(mlflow: ModuleType, settings: Settings, name: str) -> str:
    """The experiment ``name``, created on first use (locally, its artifacts under
    ``<CIFT_HOME>/mlflow/artifacts``; on a server, where the server keeps them)."""
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = None
    if not settings.mlflow_tracking_uri:
        location = (settings.home / "mlflow" / "artifacts").resolve().as_uri()
    return str(mlflow.create_experiment(name, artifact_location=location))


@dataclass(frozen=True)
class ModelVersion:
    """One registered version, as ``cift ml models`` shows it."""

    name: str
    version: int
    run_id: str
    aliases: list[str]
    created_ms: int
    tags: dict[str, str]
    metrics: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "aliases": self.aliases,
            "created_ms": self.created_ms,
            "tags": self.tags,
            "metrics": self.metrics,
        }


OWNER_TAG = f"{TAG}owner"


def _registered(client: Any, name: str) -> Any:
    """The registered model ``name``, or None."""
    found = client.search_registered_models(filter_string=f"name = '{_quoted(name)}'")
    return found[0] if found else None


def claim_name(mlflow: ModuleType, name: str, owner: uuid.UUID) -> None:
    """Register ``name`` for ``owner`` (the registry is shared by every user; a name is
    its first trainer's)."""
    client = mlflow.MlflowClient()
    model = _registered(client, name)
    if model is None:
        client.create_registered_model(name, tags={OWNER_TAG: str(owner)})
    elif model.tags.get(OWNER_TAG, str(owner)) != str(owner):
        raise ConflictError(
            f"Another user registered models as {name!r}; save your configuration under "
            "another name."
        )


def owned_by(settings: Settings, name: str, owner: uuid.UUID) -> None:
    """Refuse (as missing) a registered model another user owns."""
    model = None
    if not nothing_tracked(settings):
        with mlflow_at(settings) as mlflow:
            model = _registered(mlflow.MlflowClient(), name)
    if model is None or model.tags.get(OWNER_TAG, str(owner)) != str(owner):
        raise NotFoundError(f"No registered model {name!r}; see GET /api/v1/ml/models.")


def registered_models(settings: Settings, owner: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Every registered model (only ``owner``'s when given): name, newest version and
    aliases."""
    if nothing_tracked(settings):
        return []
    with mlflow_at(settings) as mlflow:
        client = mlflow.MlflowClient()
        out = []
        for model in client.search_registered_models(max_results=1_000):
            if owner is not None and model.tags.get(OWNER_TAG) != str(owner):
                continue
            versions = [int(v.version) for v in model.latest_versions or []]
            out.append(
                {
                    "name": model.name,
                    "latest_version": max(versions) if versions else None,
                    "aliases": dict(sorted((model.aliases or {}).items())),
                    "description": model.description or "",
                }
            )
        return sorted(out, key=lambda m: m["name"])


def _lineage_tags(run: Any) -> dict[str, str]:
    return {k: v for k, v in run.data.tags.items() if k.startswith(TAG)}


def _version(client: Any, version: Any, aliases: dict[str, str]) -> ModelVersion:
    """An MLflow model version with its run's metrics and lineage tags; ``aliases`` are
    the registered model's (alias -> version)."""
    run = client.get_run(version.run_id)
    return ModelVersion(
        name=version.name,
        version=int(version.version),
        run_id=version.run_id,
        aliases=sorted(a for a, v in aliases.items() if int(v) == int(version.version)),
        created_ms=int(version.creation_timestamp),
        tags=_lineage_tags(run),
        metrics=dict(run.data.metrics),
    )


def model_versions(settings: Settings, name: str) -> list[ModelVersion]:
    """The versions of the registered model ``name``, newest first, with their runs'
    metrics and lineage tags."""
    if nothing_tracked(settings):
        raise _no_model(name)
    with mlflow_at(settings) as mlflow:
        client = mlflow.MlflowClient()
        found = client.search_model_versions(f"name = '{_quoted(name)}'")
        if not found:
            raise _no_model(name)
        aliases = client.get_registered_model(name).aliases
        return sorted((_version(client, v, aliases) for v in found), key=lambda v: -v.version)


def importance(settings: Settings, name: str, version: int) -> list[dict[str, Any]]:
    """The feature importance the training run of ``version`` logged (by gain and by
    permutation, per feature); empty for a run that logged none."""
    with mlflow_at(settings) as mlflow:
        run_id = mlflow.MlflowClient().get_model_version(name, str(version)).run_id
        try:
            logged = mlflow.artifacts.load_dict(f"runs:/{run_id}/importance.json")
        except mlflow.exceptions.MlflowException:
            return []
    return [
        {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()}
        for row in logged.get("importance", [])
    ]  # no permutation measured: NaN, which JSON cannot carry


def promote(settings: Settings, name: str, version: int, alias: str = CHAMPION) -> None:
    """Point ``alias`` at ``version`` of ``name`` (an alias names one version at a time)."""
    if alias not in ALIASES:
        raise ValidationError(f"Alias {alias!r}: choose {' or '.join(ALIASES)}.")
    resolve_version(settings, name, str(version))
    with mlflow_at(settings) as mlflow:
        mlflow.MlflowClient().set_registered_model_alias(name, alias, str(version))


def resolve_version(settings: Settings, name: str, ref: str) -> ModelVersion:
    """A version of ``name`` by number (``3``) or alias (``champion``), looked up alone."""
    if nothing_tracked(settings):
        raise _no_model(name)
    with mlflow_at(settings) as mlflow:
        client = mlflow.MlflowClient()
        model = _registered(client, name)
        if model is None:
            raise _no_model(name)
        aliases = model.aliases or {}
        number = ref if ref.isdigit() else aliases.get(ref)
        if number is not None:
            try:
                return _version(client, client.get_model_version(name, str(number)), aliases)
            except mlflow.exceptions.MlflowException as exc:
                if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
                    raise
        known = client.search_model_versions(f"name = '{_quoted(name)}'")
    raise NotFoundError(
        f"{name} has no version or alias {ref!r}; versions "
        f"{', '.join(sorted(str(v.version) for v in known))}, aliases "
        f"{', '.join(sorted(aliases)) or 'none'}."
    )


def tags_of(values: dict[str, Any]) -> dict[str, str]:
    """Lineage values as ``cift.*`` run tags (documents as compact JSON)."""
    return {
        f"{TAG}{key}": value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        for key, value in values.items()
    }


def _no_model(name: str) -> NotFoundError:
    return NotFoundError(f"No registered model {name!r}; see 'cift ml models ls'.")


def _quoted(name: str) -> str:
    return name.replace("'", "''")


def run_tags(settings: Settings, run_id: str) -> dict[str, Any]:
    """A run's name, lineage tags and metrics."""
    with mlflow_at(settings) as mlflow:
        run = mlflow.MlflowClient().get_run(run_id)
    return {
        "run_id": run.info.run_id,
        "name": run.info.run_name,
        "tags": _lineage_tags(run),
        "metrics": dict(run.data.metrics),
    }


def runs_tagged(settings: Settings, key: str, value: str) -> list[str]:
    """Ids of the runs whose tag ``cift.<key>`` is ``value``, newest first."""
    if nothing_tracked(settings):
        return []
    with mlflow_at(settings) as mlflow:
        client = mlflow.MlflowClient()
        experiments = [e.experiment_id for e in client.search_experiments()]
        runs = client.search_runs(
            experiments,
            filter_string=f"tags.`{TAG}{key}` = '{_quoted(value)}'",
            order_by=["attributes.start_time DESC"],
            max_results=1_000,
        )
    return [r.info.run_id for r in runs]


def versions_of_run(settings: Settings, run_id: str) -> list[tuple[str, int]]:
    """The registered (name, version) pairs whose model the run logged."""
    if nothing_tracked(settings):
        return []
    with mlflow_at(settings) as mlflow:
        found = mlflow.MlflowClient().search_model_versions(f"run_id = '{_quoted(run_id)}'")
    return sorted((v.name, int(v.version)) for v in found)
