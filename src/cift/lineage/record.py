"""One lineage record: data snapshot -> feature set -> dataset -> training run -> model
version -> backtest and live trading run, walked either way.

Every link is a hash or an id some stage recorded: a training run's ``cift.*`` tags name
its dataset, data snapshot, feature set and configuration; a model version names its
run; a backtest's parameters, and a live run's record, name the model version it traded
(pinned when it ran). So from a backtest or a live run the record reaches back to the
bars the model saw, and from a dataset or a model forward to every backtest and live run
that used it.

References: a backtest id (or unique prefix), a live trading run id, ``NAME/VERSION``
or ``NAME@alias`` of a registered model, an MLflow run id, a model configuration id, or
a dataset or data hash (``dataset:HASH``, ``data:HASH``; a dataset built here is found
by a prefix too).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import NotFoundError, ValidationError
from cift.core.settings import Settings
from cift.db.models import Backtest
from cift.db.models.ledger import TradingRun
from cift.db.repositories.backtests import BacktestRecords
from cift.execution.runs import trading_runs
from cift.ml import tracking
from cift.ml.configurations import configurations
from cift.ml.datasets import dataset_root, list_datasets

MODEL_STRATEGY = "model_signal"
RUN_ID = re.compile(r"^[0-9a-f]{32}$")
HASH = re.compile(r"^[0-9a-f]{6,64}$")


@dataclass
class Node:
    """One step of the record: what it is, its id and what it says."""

    kind: str
    id: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, **self.details}


@dataclass
class LineageRecord:
    """``upstream`` runs from the subject back to the data; ``downstream`` lists what
    was made from the subject (runs, model versions, backtests)."""

    subject: Node
    upstream: list[Node] = field(default_factory=list)
    downstream: list[Node] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject.to_dict(),
            "upstream": [n.to_dict() for n in self.upstream],
            "downstream": [n.to_dict() for n in self.downstream],
        }


@dataclass
class Sources:
    """Where the record's links are read from."""

    settings: Settings
    db: sessionmaker[Session]
    owner: uuid.UUID

    @property
    def backtests(self) -> BacktestRecords:
        return BacktestRecords(self.db)

    def model_uses(self, name: str, version: int) -> list[Node]:
        """The backtests and the live trading runs of a model version."""
        runs = trading_runs(self.db).list(self.owner, TradingRun.strategy == MODEL_STRATEGY)
        wanted = (name, str(version))
        live = [r for r in runs if (r.params.get("model"), r.params.get("version")) == wanted]
        backtests = [_backtest_node(r) for r in self.model_backtests(name, version)]
        return [*backtests, *(_live_run_node(r) for r in live)]

    def model_backtests(self, name: str, version: int) -> list[Backtest]:
        rows = self.backtests.recent(limit=10_000, strategy=MODEL_STRATEGY, owner=self.owner)
        wanted = (name, str(version))
        return [
            r for r in rows if (r.parameters.get("model"), r.parameters.get("version")) == wanted
        ]


def lineage(
    settings: Settings, db: sessionmaker[Session], owner: uuid.UUID, ref: str
) -> LineageRecord:
    """The record around ``ref`` (see the module's list of references)."""
    sources = Sources(settings, db, owner)
    text = ref.strip()
    if text.startswith("dataset:"):
        return _from_dataset(sources, _dataset_hash(settings, text.removeprefix("dataset:")))
    if text.startswith("data:"):
        return _from_data(sources, text.removeprefix("data:"))
    if "/" in text or "@" in text:
        name, _, version = text.replace("@", "/").partition("/")
        found = tracking.resolve_version(settings, name, version)
        return _from_model(sources, found.name, found.version)
    if RUN_ID.match(text):
        return _from_run(sources, text)
    by_id = _from_id(sources, text)
    if by_id is not None:
        return by_id
    if HASH.match(text.replace("-", "")):
        return _from_backtest(sources, _backtest(sources, text))
    raise ValidationError(
        f"{ref!r} is not a lineage reference: give a backtest id, a live trading run id, "
        "NAME/VERSION or NAME@alias of a model, an MLflow run id, a configuration id, "
        "dataset:HASH or data:HASH."
    )


def _from_id(sources: Sources, text: str) -> LineageRecord | None:
    """The record of a model configuration or a live run with id ``text``, if any."""
    try:
        as_id = uuid.UUID(text)
    except ValueError:
        return None
    if _is_configuration(sources, as_id):
        return _from_configuration(sources, as_id)
    live = _live_run(sources, as_id)
    return None if live is None else _from_live_run(sources, live)


def _live_run(sources: Sources, run_id: uuid.UUID) -> TradingRun | None:
    try:
        return trading_runs(sources.db).get(run_id, sources.owner)
    except NotFoundError:
        return None


def _from_live_run(sources: Sources, row: TradingRun) -> LineageRecord:
    """A live run back to its model's training data (pinned when it started)."""
    record = LineageRecord(_live_run_node(row))
    pinned = row.lineage
    if pinned.get("training_run"):
        name, _, version = str(pinned["model_version"]).partition("/")
        model = tracking.resolve_version(sources.settings, name, version)
        record.upstream = [_model_node(model), *_training_chain(sources, pinned["training_run"])]
    return record


def _backtest(sources: Sources, text: str) -> Backtest:
    row = sources.backtests.find(text)
    if row.user_id != sources.owner:
        raise NotFoundError(f"{text!r} matches no recorded backtest; see 'cift backtest ls'.")
    return row


def _is_configuration(sources: Sources, row_id: uuid.UUID) -> bool:
    try:
        configurations(sources.db).get(row_id, sources.owner)
    except NotFoundError:
        return False
    return True


def _dataset_hash(settings: Settings, text: str) -> str:
    built: list[str] = [m["dataset_hash"] for m in list_datasets(dataset_root(settings))]
    matches = [h for h in built if h.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if len(text) == 64:
        return text
    raise NotFoundError(
        f"dataset:{text} matches {len(matches)} datasets built here; give all 64 characters."
    )


def _from_backtest(sources: Sources, row: Backtest) -> LineageRecord:
    record = LineageRecord(_backtest_node(row))
    params = row.parameters
    if row.strategy == MODEL_STRATEGY and params.get("model"):
        model = tracking.resolve_version(sources.settings, params["model"], str(params["version"]))
        chain = _training_chain(sources, model.run_id)
        record.upstream = [_model_node(model), *chain]
        record.subject.details["out_of_sample"] = _after(row, chain[-1].details["to"])
    return record


def _after(row: Backtest, trained_to: str | None) -> bool | None:
    """Whether the backtest starts after the last bar its model's labels read (None
    when the run does not say)."""
    if not trained_to or row.start_at is None:
        return None
    return row.start_at > datetime.fromisoformat(trained_to)


def _from_model(sources: Sources, name: str, version: int) -> LineageRecord:
    model = tracking.resolve_version(sources.settings, name, str(version))
    record = LineageRecord(_model_node(model), _training_chain(sources, model.run_id))
    record.downstream = sources.model_uses(name, version)
    return record


def _from_run(sources: Sources, run_id: str) -> LineageRecord:
    chain = _training_chain(sources, run_id)
    record = LineageRecord(chain[0], chain[1:])
    record.downstream = _made_by_run(sources, run_id)
    return record


def _from_configuration(sources: Sources, row_id: uuid.UUID) -> LineageRecord:
    row = configurations(sources.db).get(row_id, sources.owner)
    record = LineageRecord(
        Node("configuration", str(row.id), {"name": row.name, "version": row.version})
    )
    runs = tracking.runs_tagged(sources.settings, "configuration_id", str(row.id))
    record.downstream = _made_by_runs(sources, [_training_chain(sources, r) for r in runs])
    return record


def _from_dataset(sources: Sources, dataset_hash: str) -> LineageRecord:
    runs = tracking.runs_tagged(sources.settings, "dataset_hash", dataset_hash)
    manifest = _manifest(sources.settings, dataset_hash)
    if not runs and manifest is None:
        raise NotFoundError(f"No dataset {dataset_hash[:12]} built here and no run trained on it.")
    subject = Node("dataset", dataset_hash, _dataset_details(manifest))
    record = LineageRecord(subject)
    chains = [_training_chain(sources, r) for r in runs]
    if chains:
        record.upstream = chains[0][3:]
    elif manifest is not None:
        record.upstream = [
            Node(
                "feature_set",
                manifest["feature_set_sha"],
                {"features": manifest["spec"]["features"]},
            ),
            Node("data", manifest["data_hash"]),
        ]
    record.downstream = _made_by_runs(sources, chains)
    return record


def _from_data(sources: Sources, data_hash: str) -> LineageRecord:
    record = LineageRecord(Node("data", data_hash))
    runs = tracking.runs_tagged(sources.settings, "data_hash", data_hash)
    chains = [_training_chain(sources, r) for r in runs]
    datasets = {chain[2].id: chain[2] for chain in chains}  # each dataset once
    record.downstream = [*datasets.values(), *_made_by_runs(sources, chains)]
    if not record.downstream:
        raise NotFoundError(f"No training run used data {data_hash[:12]}.")
    return record


def _training_chain(sources: Sources, run_id: str) -> list[Node]:
    """run -> configuration -> dataset -> feature set -> data."""
    run = tracking.run_tags(sources.settings, run_id)
    tags = run["tags"]
    if "cift.dataset_hash" not in tags:
        raise NotFoundError(f"MLflow run {run_id} was not made by 'cift ml cv' or 'cift ml train'.")
    metrics = {k: v for k, v in run["metrics"].items() if k.startswith("oos_")}
    dataset_hash = tags["cift.dataset_hash"]
    return [
        Node(
            "training_run",
            run_id,
            {
                "name": run["name"],
                "purpose": tags.get("cift.kind"),
                "metrics": metrics,
                "code_version": tags.get("cift.code_version"),
            },
        ),
        Node(
            "configuration",
            tags.get("cift.configuration_id", ""),
            {"name": tags.get("cift.configuration")},
        ),
        Node(
            "dataset",
            dataset_hash,
            _dataset_details(_manifest(sources.settings, dataset_hash))
            | {"label": tags.get("cift.label"), "symbols": tags.get("cift.symbols")},
        ),
        Node(
            "feature_set",
            tags.get("cift.feature_set_sha", ""),
            {"features": tags.get("cift.features")},
        ),
        Node(
            "data",
            tags.get("cift.data_hash", ""),
            {
                "timeframe": tags.get("cift.timeframe"),
                "from": tags.get("cift.trained_from"),
                "to": tags.get("cift.trained_to"),
            },
        ),
    ]


def _made_by_runs(sources: Sources, chains: list[list[Node]]) -> list[Node]:
    """Each training run (the head of its chain), then the model versions it registered
    and the backtests that traded them."""
    nodes: list[Node] = []
    for chain in chains:
        nodes += [chain[0], *_made_by_run(sources, chain[0].id)]
    return nodes


def _made_by_run(sources: Sources, run_id: str) -> list[Node]:
    nodes: list[Node] = []
    for name, version in tracking.versions_of_run(sources.settings, run_id):
        nodes.append(_model_node(tracking.resolve_version(sources.settings, name, str(version))))
        nodes.extend(sources.model_uses(name, version))
    return nodes


def _manifest(settings: Settings, dataset_hash: str) -> dict[str, Any] | None:
    path = dataset_root(settings) / f"{dataset_hash}.json"
    if not path.exists():
        return None
    found: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return found


def _dataset_details(manifest: dict[str, Any] | None) -> dict[str, Any]:
    if manifest is None:
        return {"built_here": False}
    return {"built_here": True, "rows": manifest["rows"], "columns": len(manifest["features"])}


def _model_node(version: tracking.ModelVersion) -> Node:
    return Node(
        "model_version",
        f"{version.name}/{version.version}",
        {"aliases": version.aliases, "run_id": version.run_id},
    )


def _backtest_node(row: Backtest) -> Node:
    return Node(
        "backtest",
        str(row.id),
        {
            "strategy": row.strategy,
            "params": row.parameters,
            "status": row.status.value,
            "data_hash": row.data_hash,
            "sharpe": row.metrics.get("sharpe"),
            "total_return": row.metrics.get("total_return"),
        },
    )


def _live_run_node(row: TradingRun) -> Node:
    return Node(
        "live_run",
        str(row.id),
        {
            "strategy": row.strategy,
            "params": row.params,
            "account_id": str(row.account_id),
            "state": row.state.value,
            "bars_seen": row.bars_seen,
            "started_at": row.started_at.isoformat(),
        },
    )
