"""The event bus between the live stages: publish column batches to a topic, read them
as a consumer group, acknowledge once the work is durable, replay, and measure lag.

Every backend (in-process, Redis Streams, Kafka) gives the same at-least-once contract:
a batch read but not acknowledged is delivered again (to the same group, after a restart
or to another consumer), and batches of one key (a symbol) arrive in publish order.
Consumers are idempotent (the stores skip stored keys), so redelivery loses nothing and
stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import polars as pl

from cift.core.tracing import Carrier, producing

TOPICS = ("trades", "quotes", "bars", "features", "orders")
"""The topics of the live path, one per kind of event."""


def publishing(backend: str, topic: str, frame: pl.DataFrame) -> AbstractContextManager[Carrier]:
    """The producer span of one publish; its carrier goes into the message."""
    attributes = {
        "messaging.system": backend,
        "messaging.destination.name": topic,
        "messaging.batch.message_count": frame.height,
    }
    return producing(f"publish {topic}", attributes)


@dataclass(frozen=True)
class Delivery:
    """One batch as a consumer receives it: where it sits in the topic, and its rows."""

    topic: str
    position: str
    """The backend's own address of the batch (offset, stream id), used to acknowledge."""
    frame: pl.DataFrame
    published_ns: int
    """When it was published (ns since the epoch), for end-to-end latency."""
    trace: Mapping[str, str] = field(default_factory=dict)
    """The publisher's trace context (W3C headers), for the consumer's span to continue."""


@runtime_checkable
class Subscription(Protocol):
    """One consumer of a group on one topic."""

    def poll(self, max_batches: int = 100, timeout: float = 1.0) -> list[Delivery]:
        """Up to ``max_batches`` batches not yet acknowledged by the group; waits up to
        ``timeout`` seconds for the first one."""
        ...

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        """The group is done with these batches: they are not delivered again."""
        ...

    def lag(self) -> int:
        """How many published batches the group has not acknowledged yet."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class EventBus(Protocol):
    """Topics of column batches, read by consumer groups."""

    backend: str

    def publish(self, topic: str, frame: pl.DataFrame) -> None:
        """Append ``frame`` to ``topic`` (split by ``symbol`` where the backend orders
        per key); returns once the bus holds it durably (as durably as it can)."""
        ...

    def subscribe(
        self, topic: str, group: str, consumer: str = "consumer-1", *, from_start: bool = True
    ) -> Subscription:
        """A consumer of ``group``; a new group starts at the oldest retained batch
        (``from_start``) or at the next one published."""
        ...

    def rewind(self, topic: str, group: str, since_ns: int) -> None:
        """Replay: ``group`` reads ``topic`` again from the first retained batch published
        at or after ``since_ns`` (creating the group if needed). Run it while the
        group's consumers are stopped; what they read next starts there."""
        ...

    def close(self) -> None: ...
