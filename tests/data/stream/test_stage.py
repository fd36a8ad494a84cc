"""The consuming loop's two ways to stop: at once, or once it has read everything
published before it was asked to drain."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from cift.data.bus import Delivery
from cift.data.bus.memory import MemoryBus
from cift.data.stream.stage import Outcome, StageStats, StageStop, consume
from tests.data.marketdata import random_trades


def _reading(bus: MemoryBus, stop: threading.Event) -> tuple[threading.Thread, list[int]]:
    """A consumer of ``trades`` in a thread; the batch sizes it has read."""
    read: list[int] = []

    def work(deliveries: Sequence[Delivery]) -> Outcome:
        read.extend(d.frame.height for d in deliveries)
        return Outcome(0, deliveries)

    def run() -> StageStats:
        return consume(bus, "trades", "g", "c-1", work, stop, max_batches=1)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, read


def test_a_drained_stage_reads_everything_published_before_and_then_stops() -> None:
    bus = MemoryBus()
    stop = StageStop()
    thread, read = _reading(bus, stop)
    batches = [random_trades(n, ["AAA"], seed=n) for n in range(1, 41)]
    for batch in batches:
        bus.publish("trades", batch)
    stop.drain()  # one batch a poll: 40 polls still to go
    thread.join(30)
    assert not thread.is_alive()
    assert read == [b.height for b in batches]
    assert not stop.is_set()


def test_a_set_stop_does_not_wait_for_the_rest() -> None:
    bus = MemoryBus()
    stop = StageStop()
    for n in range(1, 200):
        bus.publish("trades", random_trades(n, ["AAA"], seed=n))
    stop.set()
    thread, read = _reading(bus, stop)
    thread.join(30)
    assert not thread.is_alive()
    assert read == []


def test_only_an_empty_poll_begun_after_the_request_drains() -> None:
    stop = StageStop()
    assert not stop.drained(0.0, 0)  # not asked to
    stop.drain()
    assert not stop.drained(0.0, 0)  # the poll began before the request
    assert not stop.drained(float("inf"), 1)  # it found something
    assert stop.drained(float("inf"), 0)
