"""What ``cift stream`` shows and reports while it runs: a live table of each stage
(rows, rate, lag, last event, latency), posted to the stream board once a second so
``cift stream status`` and the API see it from other processes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.live import Live
from rich.table import Table

from cift.data.stream import StageStats
from cift.data.stream.board import Board

from .console import console

POST_EVERY_SECONDS = 1.0


def _when(ns: int | None) -> str | None:
    if ns is None:
        return None
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="seconds")


def status_of(stats: StageStats, seconds: float) -> dict[str, Any]:
    """A stage's stats as the board keeps them."""
    return {
        "rows_in": stats.rows_received,
        "rows_out": stats.rows_stored,
        "batches": stats.batches,
        "rate": stats.rows_received / max(seconds, 1e-9),
        "lag": stats.lag,
        "last_event": _when(stats.last_event_ns),
        "latency_ms": round(stats.latency_ms, 3),
        "latency_p99_ms": stats.latency_quantile(0.99),
        "pid": os.getpid(),
    }


def stats_table(stats: dict[str, StageStats], *, title: str, seconds: float = 0.0) -> Table:
    table = Table(title=title)
    for column in ("stage", "rows in", "rows out", "rows/s", "lag", "last event", "p99 latency"):
        table.add_column(column, justify="left" if column in {"stage", "last event"} else "right")
    for stage, item in stats.items():
        status = status_of(item, seconds) if seconds else status_of(item, 1.0)
        table.add_row(
            stage,
            f"{item.rows_received:,}",
            f"{item.rows_stored:,}",
            f"{status['rate']:,.0f}" if seconds else "-",
            f"{item.lag:,}",
            status["last_event"] or "-",
            "-" if status["latency_p99_ms"] is None else f"{status['latency_p99_ms']:,.0f} ms",
        )
    return table


class Reporter:
    """Shows a command's stages on screen and posts them to the board."""

    def __init__(self, board: Board, name: str) -> None:
        self.board, self.name = board, name
        self.began = time.monotonic()
        self.stats: dict[str, StageStats] = {}
        self._posted = 0.0

    def _update(self, live: Live, stage: str, stats: StageStats) -> None:
        self.stats[stage] = stats
        now = time.monotonic()
        if now - self._posted < POST_EVERY_SECONDS:
            return
        self._posted = now
        seconds = now - self.began
        for name, item in self.stats.items():
            self.board.post_status(name, status_of(item, seconds))
        live.update(stats_table(self.stats, title=f"cift stream {self.name}", seconds=seconds))

    def watching(self, live: Live) -> Callable[[StageStats], None]:
        """A progress callback for one stage named like the command."""
        return lambda stats: self._update(live, self.name, stats)

    def watching_all(self, live: Live) -> Callable[[str, StageStats], None]:
        """A progress callback for many stages (``cift stream run``)."""
        return lambda stage, stats: self._update(live, stage, stats)

    def final(self, stats: StageStats) -> None:
        """Post and print the last figures."""
        self.stats[self.name] = stats
        seconds = time.monotonic() - self.began
        self.board.post_status(self.name, status_of(stats, seconds))
        console.print(stats_table(self.stats, title="stopped", seconds=seconds))
