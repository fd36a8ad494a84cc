"""A job ends once: when a stopping server has cancelled a job, the worker that comes to
it late neither starts it nor overwrites the cancellation (on both backends)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import ConflictError
from cift.core.settings import Settings
from cift.db.engine import session_factory, transaction
from cift.db.models import Backtest, JobStatus, TrainingJob
from cift.db.repositories.backtests import BacktestRecords
from cift.db.repositories.users import local_user_id
from cift.ml import jobs
from tests.schema import migrated_engine

CANCELLED = "Cancelled: the server stopped before the run finished."


@pytest.fixture
def sessions(db_settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = migrated_engine(db_settings)
    yield session_factory(engine)
    engine.dispose()


def backtest(sessions: sessionmaker[Session], run_id: uuid.UUID) -> Backtest:
    with sessions() as session:
        row = session.get(Backtest, run_id)
        assert row is not None
        return row


def test_a_cancelled_backtest_is_not_started_nor_turned_into_a_success(
    sessions: sessionmaker[Session],
) -> None:
    records = BacktestRecords(sessions)
    queued = records.create({"strategy": "sma_cross"}, 100_000.0)
    records.fail(queued, CANCELLED)  # a stopping server, before any worker came to it
    with pytest.raises(ConflictError, match="had ended \\(failed\\) before a worker"):
        records.start(queued)
    assert backtest(sessions, queued).status is JobStatus.FAILED

    running = records.create({"strategy": "sma_cross"}, 100_000.0)
    records.start(running)
    assert backtest(sessions, running).status is JobStatus.RUNNING
    records.fail(running, CANCELLED)  # the server stops while the worker runs on
    records.succeed(running, final_equity=123)  # the worker finishes late
    records.fail(running, "ValueError: late")
    row = backtest(sessions, running)
    assert (row.status, row.error, row.final_equity) == (JobStatus.FAILED, CANCELLED, None)

    done = records.create({"strategy": "sma_cross"}, 100_000.0)
    records.start(done)
    records.succeed(done, final_equity=123)
    records.fail(done, CANCELLED)  # a success recorded first stands too
    row = backtest(sessions, done)
    assert (row.status, row.error, row.final_equity) == (JobStatus.SUCCEEDED, None, 123)


def test_a_cancelled_training_job_is_not_started_nor_overwritten(
    db_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with transaction(sessions) as session:
        owner = local_user_id(session)
        job = TrainingJob(user_id=owner, kind="train", request={}, status=JobStatus.QUEUED)
        session.add(job)
        session.flush()
        job_id = job.id
    jobs._end(sessions, job_id, JobStatus.CANCELLED, error=CANCELLED)
    jobs._work(db_settings, job_id, owner)  # the worker comes to it late: nothing runs
    jobs._end(sessions, job_id, JobStatus.SUCCEEDED, progress=1.0)
    with sessions() as session:
        row = session.get(TrainingJob, job_id)
        assert row is not None
        assert (row.status, row.error, row.started_at) == (JobStatus.CANCELLED, CANCELLED, None)
