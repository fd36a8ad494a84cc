"""Backtests as background jobs: queued in the database, run in worker processes.

The API records a run as ``queued`` and returns at once; a worker process (spawned, so
the API's event loop never waits on the engine) moves it to ``running``, reports its
progress, and ends it ``succeeded`` or ``failed``. A server that stops gracefully hands
its queued runs back as failed; runs left ``queued`` or ``running`` by one that died are
marked failed when the next one starts. Each failure says how to run it again.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from concurrent.futures import Future, ProcessPoolExecutor, wait

from loguru import logger

from cift.backtest import runs
from cift.backtest.spec import RunSpec
from cift.core.errors import CiftError
from cift.core.logging import configure_logging
from cift.core.settings import Settings
from cift.db.repositories.backtests import BacktestRecords, rerun_hint

PROGRESS_EVERY_S = 0.5
DRAIN_SECONDS = 10.0


class BacktestJobs:
    """A pool of worker processes for recorded runs."""

    def __init__(self, settings: Settings, records: BacktestRecords, workers: int = 1) -> None:
        self.settings = settings
        self.records = records  # the server's own engine: no engine per submission
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self.futures: dict[uuid.UUID, Future[None]] = {}

    def submit(self, spec: RunSpec, user_id: uuid.UUID | None = None) -> uuid.UUID:
        """Record ``spec`` as queued and start it; its id comes back at once."""
        spec.validate_all()
        spec = spec.resolved(self.settings)
        config = spec.backtest_config()
        run_id = self.records.create(spec.model_dump(mode="json"), config.initial_cash, user_id)
        self.futures[run_id] = self.pool().submit(
            _work, self.settings, spec.model_dump(mode="json"), run_id
        )
        return run_id

    def wait(self, run_id: uuid.UUID, timeout: float | None = None) -> None:
        """Block until the job ends (tests and the CLI use it)."""
        future = self.futures.get(run_id)
        if future is not None:
            future.result(timeout)

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._pool

    def shutdown(self) -> None:
        """Stop taking work: runs in a worker get DRAIN_SECONDS to finish; the rest are
        handed back as failed with the way to run them again (nothing stays queued)."""
        if self._pool is None:
            return
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        # Runs handed to a worker get a moment to finish; those still waiting in the
        # pool's call queue never start once the server exits.
        wait([f for f in self.futures.values() if not f.done()], timeout=DRAIN_SECONDS)
        for run_id, future in self.futures.items():
            if not future.done() or future.cancelled():
                stage = "started" if future.cancelled() else "finished"
                self.records.fail(
                    run_id,
                    f"Cancelled: the server stopped before the run {stage}; {rerun_hint(run_id)}",
                )


def _work(settings: Settings, spec_json: dict[str, object], run_id: uuid.UUID) -> None:
    """Run one recorded backtest in a worker process; errors are recorded, not raised."""
    configure_logging(settings)
    store = runs.records(settings)
    last = 0.0

    def progress(fraction: float) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S:
            last = now
            store.progress(run_id, fraction)

    try:
        runs.execute(
            RunSpec.model_validate(spec_json),
            settings,
            progress=progress,
            run_id=run_id,
            store=store,
        )
    except CiftError as exc:
        logger.warning("backtest {} failed: {}", run_id, exc.message)
    except Exception:
        logger.exception("backtest {} failed", run_id)
