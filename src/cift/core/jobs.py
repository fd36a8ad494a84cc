"""Background jobs in spawned worker processes, each tracked by the id of its record.

Backtests and training runs share this pool discipline: the API records a job and
returns at once; a spawned worker (so the server's event loop never waits on the work)
runs it and records how it ended. On a graceful stop, jobs handed to a worker get
:data:`DRAIN_SECONDS` to finish and the rest are reported back, so none stays queued.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from typing import Any

from cift.core.errors import CiftError
from cift.core.metrics import RUN_BUCKETS, counter, gauge, histogram
from cift.core.settings import load_settings
from cift.core.tracing import Carrier, carrier, continued, flush, setup_tracing, span

DRAIN_SECONDS = 10.0
PROGRESS_EVERY_S = 0.5
PARENT_WATCH_S = 1.0

OUTCOMES = ("done", "failed", "canceled")
SUBMITTED = counter("jobs", "submitted", "", "Jobs handed to the worker pool.", ("kind",))
FINISHED = counter(
    "jobs", "finished", "", "Jobs that ended, by outcome (done, failed, canceled).",
    ("kind", "outcome"),
)  # fmt: skip
IN_PROGRESS = gauge("jobs", "in_progress", "", "Jobs submitted and not ended.", ("kind",))
DURATION = histogram(
    "jobs", "duration", "seconds", "Time from a job's submission to its end.", ("kind",),
    buckets=RUN_BUCKETS,
)  # fmt: skip


class WorkerPool:
    """Spawned worker processes running jobs by id."""

    def __init__(self, workers: int = 1, kind: str = "backtest") -> None:
        self.workers = workers
        self.kind = kind
        for outcome in OUTCOMES:  # each series from the start, so the first failure counts
            FINISHED.labels(kind, outcome)
        self._pool: ProcessPoolExecutor | None = None
        self.futures: dict[uuid.UUID, Future[None]] = {}

    def submit(self, job_id: uuid.UUID, work: Callable[..., None], *args: Any) -> None:
        """Run ``work(*args)`` in a worker (it records its own outcome), in the trace of
        the caller (the request that started it)."""
        future = self.pool().submit(run_job, self.kind, carrier(), work, *args)
        self.futures[job_id] = future
        SUBMITTED.labels(self.kind).inc()
        IN_PROGRESS.labels(self.kind).inc()
        future.add_done_callback(_ended(self.kind, time.monotonic()))

    def wait(self, job_id: uuid.UUID, timeout: float | None = None) -> None:
        """Block until the job ends (tests and the CLI use it)."""
        future = self.futures.get(job_id)
        if future is not None:
            future.result(timeout)

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=start_worker,
                initargs=(os.getpid(), self.kind),
            )
        return self._pool

    def shutdown(self, unfinished: Callable[[uuid.UUID, str], None]) -> None:
        """Stop taking work; ``unfinished(job_id, stage)`` for every job that did not end
        (``stage``: ``started`` for one never started, ``finished`` for one cut short)."""
        if self._pool is None:
            return
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        # Jobs handed to a worker get a moment to finish; those still waiting in the
        # pool's call queue never start once the server exits.
        wait([f for f in self.futures.values() if not f.done()], timeout=DRAIN_SECONDS)
        for job_id, future in self.futures.items():
            if not future.done() or future.cancelled():
                unfinished(job_id, "started" if future.cancelled() else "finished")


def _ended(kind: str, submitted: float) -> Callable[[Future[None]], None]:
    def count(future: Future[None]) -> None:
        failed = future.cancelled() or future.exception() is not None
        outcome = "canceled" if future.cancelled() else ("failed" if failed else "done")
        FINISHED.labels(kind, outcome).inc()
        IN_PROGRESS.labels(kind).dec()
        DURATION.labels(kind).observe(time.monotonic() - submitted)

    return count


def run_job(kind: str, headers: Carrier, work: Callable[..., None], *args: Any) -> None:
    """In a worker: ``work(*args)`` as a span of the trace that ``headers`` carry."""
    try:
        with continued(headers), span(f"{kind} job"):
            work(*args)
    finally:
        flush()


def start_worker(parent: int, kind: str) -> None:
    """Once in each worker process: follow the parent, and send traces when the settings
    ask for them."""
    follow_parent(parent)
    with contextlib.suppress(CiftError):  # bad settings: each job itself reports them
        setup_tracing(load_settings(), f"cift-{kind}-worker")


def follow_parent(parent: int) -> None:
    """In a worker: exit once the process that spawned it is gone (killed, so it could
    not stop its pool), rather than run on as an orphan whose work nobody reads. The
    next server marks its unfinished records failed."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_WATCH_S)
        os._exit(1)

    threading.Thread(target=watch, name="follow-parent", daemon=True).start()


def throttled(
    report: Callable[..., object], every: float = PROGRESS_EVERY_S
) -> Callable[..., None]:
    """``report`` called at most once per ``every`` seconds (progress to a database)."""
    last = 0.0

    def call(*args: Any) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= every:
            last = now
            report(*args)

    return call
