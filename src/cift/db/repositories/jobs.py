"""A background job's record moves one way: queued, running, then ended once.

Two writers can end the same job: the job's worker, and a stopping server that records
what it could not finish (its workers may still be running and write afterwards). Each
move is one conditional UPDATE, so the first word stands: a job a stopping server
cancelled is not started, nor turned into a success, by a worker that gets to it late.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from cift.db.base import utcnow
from cift.db.models import Backtest, JobStatus, TrainingJob

OPEN = (JobStatus.QUEUED, JobStatus.RUNNING)
JobTable = type[Backtest] | type[TrainingJob]


def start_job(session: Session, table: JobTable, job_id: uuid.UUID, **values: Any) -> bool:
    """Move a queued job to running (with ``values``); False when it is not queued."""
    return _move(session, table, job_id, (JobStatus.QUEUED,), status=JobStatus.RUNNING, **values)


def end_job(
    session: Session, table: JobTable, job_id: uuid.UUID, status: JobStatus, **values: Any
) -> bool:
    """End an open job as ``status`` (with ``values``); False when it had ended already."""
    return _move(session, table, job_id, OPEN, status=status, finished_at=utcnow(), **values)


def _move(
    session: Session,
    table: JobTable,
    job_id: uuid.UUID,
    allowed: tuple[JobStatus, ...],
    **values: Any,
) -> bool:
    moved = session.execute(
        update(table).where(table.id == job_id, table.status.in_(allowed)).values(**values)
    )
    assert isinstance(moved, CursorResult)
    return moved.rowcount == 1
