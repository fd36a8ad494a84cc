"""Fans the bus out to the API's WebSocket clients.

One reader thread per topic (trades, bars, features) joins the bus as a consumer group
of its own, starting at what is published next, and hands each batch to every client
subscribed to one of its symbols. A client that falls behind by ``QUEUE_BATCHES``
batches loses the oldest (counted, and told in the next message) rather than slowing
the others or growing memory.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl
from loguru import logger

from cift.core.errors import CiftError
from cift.data.bus import EventBus, Subscription

TOPICS = ("trades", "bars", "features")
QUEUE_BATCHES = 1_000


@dataclass(eq=False)
class Listener:
    """One WebSocket client: what it wants and where its messages wait."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_BATCHES))
    symbols: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset(TOPICS)
    dropped: int = 0

    def offer(self, message: str) -> None:
        """Queue ``message`` (called on the client's loop)."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)


class StreamHub:
    """Bus topics -> subscribed clients, started on first use."""

    def __init__(self, open_bus: Callable[[], EventBus]) -> None:
        self._open_bus = open_bus
        self._listeners: set[Listener] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._bus: EventBus | None = None

    def join(self, listener: Listener) -> None:
        with self._lock:
            if self._bus is None:
                self._start()
            self._listeners.add(listener)

    def leave(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def _start(self) -> None:
        self._bus = self._open_bus()
        group = f"api-{uuid.uuid4().hex[:12]}"
        for topic in TOPICS:
            reader = self._bus.subscribe(topic, group, "api", from_start=False)
            thread = threading.Thread(
                target=self._read, args=(topic, reader), name=f"hub-{topic}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _read(self, topic: str, reader: Subscription) -> None:
        try:
            while not self._stop.is_set():
                try:
                    deliveries = reader.poll(timeout=0.5)
                    reader.ack(deliveries)
                except CiftError as exc:
                    logger.warning("stream hub: the {} topic failed ({}); retrying", topic, exc)
                    self._stop.wait(1.0)
                    continue
                for delivery in deliveries:
                    self._dispatch(topic, delivery.frame)
        finally:
            reader.close()

    def _dispatch(self, topic: str, frame: pl.DataFrame) -> None:
        with self._lock:
            listeners = [x for x in self._listeners if topic in x.kinds and x.symbols]
        for listener in listeners:
            rows = frame.filter(pl.col("symbol").is_in(list(listener.symbols)))
            if rows.is_empty():
                continue
            message = (
                f'{{"kind":"{topic}","dropped":{listener.dropped},"rows":{rows.write_json()}}}'
            )
            listener.loop.call_soon_threadsafe(listener.offer, message)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        if self._bus is not None:
            self._bus.close()
