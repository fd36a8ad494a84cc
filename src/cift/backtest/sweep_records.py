"""Recorded sweeps: each finished sweep kept as one JSON file under ``<CIFT_HOME>/sweeps``
(its spec, owner, every ranked trial and the deflated Sharpe ratio), so the API and the
dashboard can show it again, as a heat map over two parameters."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cift.backtest.spec import RunSpec
from cift.core.errors import NotFoundError
from cift.core.files import write_text_atomic
from cift.core.ids import uuid7
from cift.core.settings import Settings

if TYPE_CHECKING:  # the sweep's engine is not needed to read or write its records
    from cift.backtest.sweep import SweepResult

SUMMARY = ("id", "created_at", "strategy", "symbols", "timeframe", "rank_by", "axes", "evaluated")


def sweeps_folder(settings: Settings) -> Path:
    return settings.home / "sweeps"


def record_sweep(
    settings: Settings, owner: uuid.UUID, spec: RunSpec, result: SweepResult
) -> uuid.UUID:
    """Keep ``result`` (written whole or not at all); its id."""
    sweep_id = uuid7()
    record = {
        "id": str(sweep_id),
        "owner": str(owner),
        "created_at": datetime.now(UTC).isoformat(),
        "symbols": list(spec.symbols),
        "timeframe": spec.timeframe,
        "start": spec.start.isoformat() if spec.start else None,
        "end": spec.end.isoformat() if spec.end else None,
        **result.to_dict(),
        "trials": [trial.to_dict() for trial in result.trials],
    }
    folder = sweeps_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / f"{sweep_id}.json", json.dumps(record, default=str))
    return sweep_id


def recent_sweeps(settings: Settings, owner: uuid.UUID, limit: int) -> list[dict[str, Any]]:
    """The owner's sweeps, newest first, without their trials."""
    folder = sweeps_folder(settings)
    found = []
    for path in sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []:
        record = json.loads(path.read_text())
        if record.get("owner") == str(owner):
            found.append({key: record.get(key) for key in SUMMARY})
        if len(found) == limit:
            break
    return found


def sweep_record(settings: Settings, sweep_id: uuid.UUID, owner: uuid.UUID) -> dict[str, Any]:
    """One of the owner's sweeps with every trial; another user's is reported missing."""
    path = sweeps_folder(settings) / f"{sweep_id}.json"
    record: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    if record.get("owner") != str(owner):
        raise NotFoundError(f"No sweep {sweep_id}; see GET /api/v1/backtests/sweeps.")
    return record
