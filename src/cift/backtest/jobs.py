"""Backtests as background jobs: queued in the database, run in worker processes.

The API records a run as ``queued`` and returns at once; a worker process (spawned, so
the API's event loop never waits on the engine) moves it to ``running``, reports its
progress, and ends it ``succeeded`` or ``failed``. A server that stops gracefully hands
its queued runs back as failed; runs left ``queued`` or ``running`` by one that died are
marked failed when the next one starts. Each failure says how to run it again.
"""

from __future__ import annotations

import uuid

from loguru import logger

# The runs' metrics, written by the workers: the server's /metrics lists them from its
# start, for dashboards and alert rules to find before the first run ends.
from cift.backtest import telemetry  # noqa: F401
from cift.backtest.spec import RunSpec
from cift.core.errors import CiftError
from cift.core.jobs import WorkerPool, throttled
from cift.core.logging import configure_logging
from cift.core.settings import Settings
from cift.db.repositories.backtests import BacktestRecords, backtest_records, rerun_hint


class BacktestJobs:
    """Recorded runs on a pool of worker processes."""

    def __init__(self, settings: Settings, records: BacktestRecords, workers: int = 1) -> None:
        self.settings = settings
        self.records = records  # the server's own engine: no engine per submission
        self.workers = WorkerPool(workers)

    def submit(self, spec: RunSpec, user_id: uuid.UUID | None = None) -> uuid.UUID:
        """Record ``spec`` as queued and start it; its id comes back at once."""
        spec.validate_all()
        spec = spec.resolved(self.settings)
        config = spec.backtest_config()
        run_id = self.records.create(spec.model_dump(mode="json"), config.initial_cash, user_id)
        self.workers.submit(run_id, _work, self.settings, spec.model_dump(mode="json"), run_id)
        return run_id

    def wait(self, run_id: uuid.UUID, timeout: float | None = None) -> None:
        self.workers.wait(run_id, timeout)

    def shutdown(self) -> None:
        """Runs not finished are recorded as failed, with the way to run them again."""

        def unfinished(run_id: uuid.UUID, stage: str) -> None:
            self.records.fail(
                run_id,
                f"Cancelled: the server stopped before the run {stage}; {rerun_hint(run_id)}",
            )

        self.workers.shutdown(unfinished)


def _work(settings: Settings, spec_json: dict[str, object], run_id: uuid.UUID) -> None:
    """Run one recorded backtest in a worker process; errors are recorded, not raised.
    The engine is imported here, so the server that only queues runs never loads it."""
    from cift.backtest import runs

    configure_logging(settings)
    with backtest_records(settings) as store:
        try:
            runs.execute(
                RunSpec.model_validate(spec_json),
                settings,
                progress=throttled(lambda fraction: store.progress(run_id, fraction)),
                run_id=run_id,
                store=store,
            )
        except CiftError as exc:
            logger.warning("backtest {} failed: {}", run_id, exc.message)
        except Exception:
            logger.exception("backtest {} failed", run_id)
