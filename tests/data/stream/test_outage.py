"""A bus or status board that goes down under a running stage: the stage waits it out
and goes on, instead of ending with the failure."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console
from rich.live import Live

from cift.cli.stream_view import Reporter
from cift.core.errors import UpstreamError
from cift.data.bus.memory import MemoryBus
from cift.data.store.embedded import EmbeddedStore
from cift.data.stream import StageStats, bars_stage
from cift.data.stream.board import RedisBoard, unless_down
from cift.data.stream.stage import publish_waiting
from cift.model import DataKind, Timeframe
from tests.data.marketdata import random_trades
from tests.data.stream.running import run_stage, taken

NOBODY = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every call is refused


class RefusingAtFirst(MemoryBus):
    """An in-process bus that refuses the first ``refusals`` publishes to ``topic``, as a
    restarting Redis or broker does."""

    def __init__(self, topic: str, refusals: int) -> None:
        super().__init__()
        self.topic, self.refusals = topic, refusals

    def publish(self, topic: str, frame: pl.DataFrame) -> None:
        if topic == self.topic and self.refusals > 0:
            self.refusals -= 1
            raise UpstreamError("Redis is restarting.")
        super().publish(topic, frame)


def test_the_bars_stage_waits_out_a_bus_that_refuses_its_bars(tmp_path: Path) -> None:
    bus = RefusingAtFirst("bars", refusals=2)
    trades = random_trades(600, ["AAA", "BBB"], seed=5, span_ns=10 * 60 * 10**9)
    bus.publish("trades", trades)
    reader = bus.subscribe("bars", "check")
    store = EmbeddedStore(tmp_path / "market")
    minute = Timeframe.parse("1m")

    stats = run_stage(bars_stage, bus, store, done=taken(600), timeframe=minute, final=True)

    assert bus.refusals == 0
    assert stats.rows_received == 600
    published = pl.concat([d.frame for d in reader.poll(max_batches=100, timeout=0.1)])
    stored = store.read(DataKind.BARS, timeframe=minute).collect()
    assert published.height == stored.height > 0  # every stored bar was published once


def test_a_publish_waits_until_the_bus_takes_it_and_a_stop_gives_up() -> None:
    bus = RefusingAtFirst("bars", refusals=2)
    reader = bus.subscribe("bars", "check")
    began = time.monotonic()
    publish_waiting(bus, "bars", random_trades(5, ["AAA"]), threading.Event())
    assert time.monotonic() - began >= 1.5  # 0.5 s, then 1 s
    assert [d.frame.height for d in reader.poll(timeout=0.1)] == [5]

    stopped = threading.Event()
    stopped.set()
    bus.refusals = 1
    with pytest.raises(UpstreamError, match="restarting"):
        publish_waiting(bus, "bars", random_trades(5, ["AAA"]), stopped)


def test_a_board_that_is_down_does_not_end_the_stage_posting_to_it() -> None:
    board = RedisBoard(NOBODY)
    with pytest.raises(UpstreamError):
        board.post_status("store", {"rows_in": 1})  # the board is really down
    reporter = Reporter(board, "store")
    screen = io.StringIO()
    with Live(console=Console(file=screen, width=120)) as live:
        reporter.watching(live)(StageStats(rows_received=7))
    reporter.final(StageStats(rows_received=9))
    unless_down(board.put_latest, "set-1", random_trades(3, ["AAA"]))
    assert reporter.stats["store"].rows_received == 9
    assert "cift stream store" in screen.getvalue()  # the screen still shows the stage
