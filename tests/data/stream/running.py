"""Run a live stage in a thread until its progress says it is done."""

from __future__ import annotations

import threading
from collections.abc import Callable

from cift.data.stream import StageStats


def run_stage(
    target: Callable[..., StageStats],
    *args: object,
    done: Callable[[StageStats], bool],
    **options: object,
) -> StageStats:
    """``target(*args, stop, on_progress=..., **options)`` until ``done(stats)`` (or 30 s)."""
    stop = threading.Event()
    out: list[StageStats] = []

    def progress(stats: StageStats) -> None:
        if done(stats):
            stop.set()

    worker = threading.Thread(
        target=lambda: out.append(target(*args, stop, on_progress=progress, **options))
    )
    worker.start()
    worker.join(30)
    stop.set()
    worker.join(10)
    return out[0]


def taken(rows: int) -> Callable[[StageStats], bool]:
    """Done once the stage has taken ``rows`` rows and found nothing more."""
    return lambda stats: stats.rows_received >= rows and stats.empty_polls > 0
