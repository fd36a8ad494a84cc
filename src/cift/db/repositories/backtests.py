"""Recorded backtest runs: create, update as the job moves, read back."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from loguru import logger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import ConflictError, NotFoundError, ValidationError
from cift.db.base import utcnow
from cift.db.engine import transaction
from cift.db.models import Backtest, JobStatus
from cift.db.opening import metadata_sessions
from cift.db.repositories.jobs import end_job, start_job
from cift.db.repositories.users import local_user_id

if TYPE_CHECKING:
    from cift.core.settings import Settings


@contextmanager
def backtest_records(settings: Settings) -> Iterator[BacktestRecords]:
    """The ``backtests`` table of the configured database (migrated if needed), for the
    block."""
    with metadata_sessions(settings) as db:
        yield BacktestRecords(db)


class BacktestRecords:
    """The ``backtests`` table, one short transaction per call."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def create(
        self, spec: dict[str, Any], initial_cash: float, user_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        """A queued run of ``spec`` (a RunSpec as JSON)."""
        with transaction(self.sessions) as session:
            row = Backtest(
                user_id=user_id or local_user_id(session),
                name=spec.get("name"),
                strategy=spec["strategy"],
                parameters=spec.get("params", {}),
                config={"spec": spec},
                symbols=spec.get("symbols", []),
                initial_cash=Decimal(str(initial_cash)),
                status=JobStatus.QUEUED,
                artifacts={"queued_by": this_process()},
            )
            session.add(row)
            session.flush()
            return row.id

    def start(self, run_id: uuid.UUID) -> None:
        """Mark the queued run running in this process (its host and pid are kept);
        refused when it has ended already (a stopping server cancelled it)."""
        with transaction(self.sessions) as session:
            values = {"started_at": utcnow(), "artifacts": {"worker": this_process()}}
            if not start_job(session, Backtest, run_id, **values):
                row = _get(session, run_id)
                raise ConflictError(
                    f"Backtest {run_id} had ended ({row.status.value}) before a worker came "
                    f"to it, so it was not run. {row.error or ''}".strip()
                )

    def fail_orphans(self) -> int:
        """Fail runs whose process on this host no longer exists: running ones their
        worker left, queued ones the server that queued them took down with it (a queue
        lives in its server's memory). Each says how to run it again."""
        failed = 0
        with transaction(self.sessions) as session:
            pending = session.scalars(
                select(Backtest).where(Backtest.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
            )
            for row in pending:
                running = row.status == JobStatus.RUNNING
                owner = (row.artifacts or {}).get("worker" if running else "queued_by")
                if _orphaned(owner):
                    stage = "finished" if running else "started"
                    row.status = JobStatus.FAILED
                    hint = rerun_hint(row.id)
                    row.error = f"Interrupted: its server stopped before the run {stage}; {hint}"
                    row.finished_at = utcnow()
                    failed += 1
        return failed

    def progress(self, run_id: uuid.UUID, fraction: float) -> None:
        with transaction(self.sessions) as session:
            _get(session, run_id).progress = min(max(fraction, 0.0), 1.0)

    def succeed(self, run_id: uuid.UUID, **values: Any) -> None:
        """Store the outcome: data range and hash, code version, metrics, artifacts."""
        allowed = {
            "start_at",
            "end_at",
            "data_hash",
            "code_version",
            "final_equity",
            "metrics",
            "artifacts",
            "symbols",
        }
        unknown = set(values) - allowed
        if unknown:
            raise ValidationError(f"Unknown backtest fields: {', '.join(sorted(unknown))}.")
        self._end(run_id, JobStatus.SUCCEEDED, progress=1.0, **values)

    def fail(self, run_id: uuid.UUID, error: str) -> None:
        self._end(run_id, JobStatus.FAILED, error=error)

    def _end(self, run_id: uuid.UUID, status: JobStatus, **values: Any) -> None:
        """End the run unless it has ended already: then the first outcome stands (a
        stopping server's cancellation, and the way to run it again)."""
        with transaction(self.sessions) as session:
            if not end_job(session, Backtest, run_id, status, **values):
                row = _get(session, run_id)
                logger.info("backtest {} had ended ({}): not {}", run_id, row.status, status)

    def get(self, run_id: uuid.UUID, owner: uuid.UUID | None = None) -> Backtest:
        """A run by id; with ``owner``, another user's run is reported as missing."""
        with self.sessions() as session:
            row = _get(session, run_id)
        if owner is not None and row.user_id != owner:
            raise _missing(run_id)
        return row

    def find(self, prefix: str) -> Backtest:
        """A run by its id or a unique prefix of it (as ``cift backtest ls`` shows)."""
        text = prefix.strip().lower()
        try:
            return self.get(uuid.UUID(text))
        except ValueError:
            pass
        with self.sessions() as session:
            ids = [i for i in session.scalars(select(Backtest.id)) if str(i).startswith(text)]
        if len(ids) != 1:
            problem = "matches no recorded backtest" if not ids else f"matches {len(ids)} runs"
            raise NotFoundError(f"{prefix!r} {problem}; see 'cift backtest ls' for ids.")
        return self.get(ids[0])

    def recent(
        self, limit: int = 50, strategy: str | None = None, owner: uuid.UUID | None = None
    ) -> list[Backtest]:
        """Newest first; only ``owner``'s runs when given (the CLI sees every run)."""
        query = select(Backtest).order_by(Backtest.created_at.desc(), Backtest.id.desc())
        if owner is not None:
            query = query.where(Backtest.user_id == owner)
        if strategy:
            query = query.where(Backtest.strategy == strategy)
        with self.sessions() as session:
            return list(session.scalars(query.limit(limit)))


def rerun_hint(run_id: uuid.UUID) -> str:
    """How a user runs an interrupted backtest again."""
    return f"run it again with 'cift backtest rerun {run_id}' or POST it again."


def this_process() -> str:
    """``host:pid`` of the calling process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _orphaned(owner: object) -> bool:
    """Whether ``owner`` (``host:pid``) names a process of this host that is gone; a run
    queued before owners were recorded counts as orphaned."""
    if owner is None:
        return True
    host, _, pid = str(owner).partition(":")
    return host == socket.gethostname() and pid.isdigit() and not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe(row: Backtest, full: bool = False) -> dict[str, Any]:
    """A recorded run as JSON (the CLI prints and the API returns this shape)."""
    data: dict[str, Any] = {
        "id": str(row.id),
        "created_at": row.created_at.isoformat(),
        "name": row.name,
        "strategy": row.strategy,
        "parameters": row.parameters,
        "symbols": row.symbols,
        "status": row.status.value,
        "progress": row.progress,
        "metrics": row.metrics,
    }
    if full:
        data |= {
            "spec": (row.config or {}).get("spec"),
            "start_at": row.start_at.isoformat() if row.start_at else None,
            "end_at": row.end_at.isoformat() if row.end_at else None,
            "data_hash": row.data_hash,
            "code_version": row.code_version,
            "final_equity": str(row.final_equity) if row.final_equity is not None else None,
            "artifacts": row.artifacts,
            "error": row.error,
        }
    return data


def _get(session: Session, run_id: uuid.UUID) -> Backtest:
    row = session.get(Backtest, run_id)
    if row is None:
        raise _missing(run_id)
    return row


def _missing(run_id: uuid.UUID) -> NotFoundError:
    """The same answer whether the run does not exist or belongs to someone else."""
    return NotFoundError(f"No backtest {run_id}; see 'cift backtest ls' for ids.")
