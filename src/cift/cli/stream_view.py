"""What ``cift stream`` shows and reports while it runs: a live table of each stage
(rows, rate, lag, last event, latency), posted to the stream board once a second so
``cift stream status`` and the API see it from other processes."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.live import Live
from rich.table import Table

from cift.data.stream import StageStats
from cift.data.stream.board import Board, unless_down

from .console import console

POST_EVERY_SECONDS = 1.0


def stats_table(stats: dict[str, StageStats], *, title: str, seconds: float) -> Table:
    """The stages' figures, rates over ``seconds`` of running."""
    table = Table(title=title)
    for column in ("stage", "rows in", "rows out", "rows/s", "lag", "last event", "p99 latency"):
        table.add_column(column, justify="left" if column in {"stage", "last event"} else "right")
    for stage, item in stats.items():
        report = item.report(seconds)
        p99 = report["latency_p99_ms"]
        table.add_row(
            stage,
            f"{item.rows_received:,}",
            f"{item.rows_stored:,}",
            f"{report['rate']:,.0f}",
            f"{item.lag:,}",
            report["last_event"] or "-",
            "-" if p99 is None else f"{p99:,.0f} ms",
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
            unless_down(self.board.post_status, name, item.report(seconds))
        live.update(stats_table(self.stats, title=f"cift stream {self.name}", seconds=seconds))

    def watching(self, live: Live) -> Callable[[StageStats], None]:
        """A progress callback for one stage named like the command."""
        return lambda stats: self._update(live, self.name, stats)

    def watching_all(self, live: Live) -> Callable[[str, StageStats], None]:
        """A progress callback for many stages (``cift stream run``)."""
        return lambda stage, stats: self._update(live, stage, stats)

    @property
    def seconds(self) -> float:
        """How long the command has run."""
        return time.monotonic() - self.began

    def final(self, stats: StageStats) -> None:
        """Post and print the last figures."""
        self.stats[self.name] = stats
        seconds = time.monotonic() - self.began
        unless_down(self.board.post_status, self.name, stats.report(seconds))
        console.print(stats_table(self.stats, title="stopped", seconds=seconds))
