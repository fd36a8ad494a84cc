"""Backtest jobs for the API: submit, list, read, and the report's files."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from cift.backtest.jobs import BacktestJobs
from cift.backtest.report_library import standalone
from cift.core.errors import NotFoundError
from cift.db.repositories.backtests import BacktestRecords, describe

from ..schemas.backtests import BacktestRequest
from .market import Page

Sessions = sessionmaker[Session]
"""The app's metadata sessions (its own engine: no engine per request)."""


def submit(
    jobs: BacktestJobs, db: Sessions, request: BacktestRequest, owner: uuid.UUID
) -> dict[str, Any]:
    run_id = jobs.submit(request.spec(), owner)
    return describe(BacktestRecords(db).get(run_id, owner), full=True)


def recent(
    db: Sessions, limit: int, strategy: str | None, owner: uuid.UUID
) -> list[dict[str, Any]]:
    """The owner's runs only."""
    return [describe(row) for row in BacktestRecords(db).recent(limit, strategy, owner)]


def detail(db: Sessions, run_id: uuid.UUID, owner: uuid.UUID) -> dict[str, Any]:
    """One of the owner's runs; another user's run is reported as missing."""
    return describe(BacktestRecords(db).get(run_id, owner), full=True)


def report_file(db: Sessions, run_id: uuid.UUID, name: str, owner: uuid.UUID) -> Path:
    """A finished run's file ``name`` (``tearsheet.html``, ``equity.parquet``, ...)."""
    row = BacktestRecords(db).get(run_id, owner)
    path = (row.artifacts or {}).get(name)
    if not path or not Path(path).is_file():
        raise NotFoundError(
            f"Backtest {run_id} has no report yet (status {row.status.value}); reports "
            "exist once a run has succeeded."
        )
    return Path(path)


def report_page(db: Sessions, run_id: uuid.UUID, owner: uuid.UUID) -> str:
    """A finished run's HTML tearsheet as one file (plotly.js inline)."""
    return standalone(report_file(db, run_id, "tearsheet.html", owner))


def frame(db: Sessions, run_id: uuid.UUID, name: str, owner: uuid.UUID) -> Page:
    """One of a finished run's frames (equity, fills, orders, trades), whole and in time
    order, as one page."""
    path = report_file(db, run_id, f"{name}.parquet", owner)
    return Page(pl.read_parquet(path), None)
