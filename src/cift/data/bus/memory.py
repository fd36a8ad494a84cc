"""The in-process bus: topics in memory, shared by the threads of one ``cift stream run``.

Bounded: a publisher waits while the slowest group is ``capacity`` batches behind, so a
stalled consumer slows its producer instead of filling memory; a topic keeps its newest
``capacity`` batches (acknowledged or not) for replays, besides what a group still
needs. Batches a consumer read but did not acknowledge go back to its group when it
closes, as with the other backends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from cift.core.errors import UpstreamError
from cift.core.tracing import Carrier
from cift.data.bus.base import Delivery, publishing

DEFAULT_CAPACITY = 1_000
PUBLISH_TIMEOUT_SECONDS = 30.0


@dataclass
class _Group:
    low: int
    """Every position below it is acknowledged."""
    cursor: int
    """The next position never delivered to the group."""
    acked: set[int] = field(default_factory=set)  # acknowledged positions >= low
    returned: list[int] = field(default_factory=list)  # read, not acked, consumer gone

    def acknowledge(self, position: int) -> None:
        if position >= self.low:
            self.acked.add(position)
        while self.low in self.acked:
            self.acked.discard(self.low)
            self.low += 1

    def unacknowledged(self, published: int) -> int:
        return published - self.low - len(self.acked)


@dataclass
class _Topic:
    batches: dict[int, tuple[pl.DataFrame, int, Carrier]] = field(default_factory=dict)
    next_position: int = 0
    groups: dict[str, _Group] = field(default_factory=dict)


class MemoryBus:
    """Topics held in this process; safe to use from many threads."""

    backend = "memory"

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._topics: dict[str, _Topic] = {}
        self._changed = threading.Condition()

    def _topic(self, name: str) -> _Topic:
        return self._topics.setdefault(name, _Topic())

    def publish(self, topic: str, frame: pl.DataFrame) -> None:
        deadline = time.monotonic() + PUBLISH_TIMEOUT_SECONDS
        with self._changed:
            log = self._topic(topic)
            while self._behind(log) >= self.capacity:
                if not self._changed.wait(deadline - time.monotonic()):
                    raise UpstreamError(
                        f"The {topic!r} consumers are {self.capacity} batches behind for "
                        f"{PUBLISH_TIMEOUT_SECONDS:.0f} s; check that they run."
                    )
            with publishing(self.backend, topic, frame) as trace:
                log.batches[log.next_position] = (frame, time.time_ns(), trace)
            log.next_position += 1
            if not log.groups and len(log.batches) > self.capacity:
                del log.batches[min(log.batches)]  # nobody reads yet: keep the newest only
            self._changed.notify_all()

    def _behind(self, log: _Topic) -> int:
        if not log.groups:
            return 0
        return log.next_position - min(g.low for g in log.groups.values())

    def subscribe(
        self, topic: str, group: str, consumer: str = "consumer-1", *, from_start: bool = True
    ) -> MemorySubscription:
        with self._changed:
            log = self._topic(topic)
            if group not in log.groups:
                oldest = min(log.batches, default=log.next_position)
                start = oldest if from_start else log.next_position
                log.groups[group] = _Group(start, start)
        return MemorySubscription(self, topic, group)

    def rewind(self, topic: str, group: str, since_ns: int) -> None:
        with self._changed:
            log = self._topic(topic)
            later = [p for p, (_, stamp, _) in log.batches.items() if stamp >= since_ns]
            start = min(later, default=log.next_position)
            log.groups[group] = _Group(start, start)
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._changed.notify_all()


class MemorySubscription:
    """One consumer of a group on a topic of a :class:`MemoryBus`."""

    def __init__(self, bus: MemoryBus, topic: str, group: str) -> None:
        self.bus, self.topic, self.group = bus, topic, group
        self._held: set[int] = set()

    def poll(self, max_batches: int = 100, timeout: float = 1.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        with self.bus._changed:
            log = self.bus._topics[self.topic]
            state = log.groups[self.group]
            while not state.returned and state.cursor >= log.next_position:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.bus._changed.wait(remaining):
                    return []
            positions = sorted(state.returned)[:max_batches]
            state.returned = [p for p in state.returned if p not in positions]
            while len(positions) < max_batches and state.cursor < log.next_position:
                positions.append(state.cursor)
                state.cursor += 1
            self._held.update(positions)
            return [self._delivery(log, p) for p in positions]

    def _delivery(self, log: _Topic, position: int) -> Delivery:
        frame, stamp, trace = log.batches[position]
        return Delivery(self.topic, str(position), frame, stamp, trace)

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        with self.bus._changed:
            log = self.bus._topics[self.topic]
            state = log.groups[self.group]
            for delivery in deliveries:
                state.acknowledge(int(delivery.position))
                self._held.discard(int(delivery.position))
            needed = min(g.low for g in log.groups.values())
            floor = min(needed, log.next_position - self.bus.capacity)  # kept for replays
            for position in [p for p in log.batches if p < floor]:
                del log.batches[position]
            self.bus._changed.notify_all()

    def lag(self) -> int:
        with self.bus._changed:
            log = self.bus._topics[self.topic]
            return log.groups[self.group].unacknowledged(log.next_position)

    def close(self) -> None:
        """Batches read and not acknowledged go back to the group."""
        with self.bus._changed:
            state = self.bus._topics[self.topic].groups[self.group]
            state.returned.extend(sorted(self._held))
            self._held.clear()
            self.bus._changed.notify_all()
