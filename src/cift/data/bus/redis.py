"""The Redis Streams bus: one stream per topic, consumer groups, pending entries claimed
back from consumers that died.

``XADD`` appends a batch (trimmed to about ``maxlen`` entries), ``XREADGROUP`` reads a
group's share, ``XACK`` acknowledges it. A batch read and not acknowledged stays pending:
the same consumer name gets it again after a restart, another consumer takes it over with
``XAUTOCLAIM`` once it has been idle ``claim_idle_ms``. Undecodable entries go to
``<topic>-dead`` with the reason, and are acknowledged so they do not stop the flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
import redis

from cift.core.errors import UpstreamError, ValidationError
from cift.data.bus.base import Delivery, publishing
from cift.data.bus.codec import decode, encode

FIELD = b"batch"
DEFAULT_MAXLEN = 1_000_000
DEFAULT_CLAIM_IDLE_MS = 30_000


def _failed(exc: redis.RedisError) -> UpstreamError:
    return UpstreamError(f"Redis refused a bus call ({exc}); check the server and CIFT_REDIS_URL.")


class RedisBus:
    """Topics as Redis streams named ``<prefix><topic>``."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        prefix: str = "cift:",
        *,
        maxlen: int = DEFAULT_MAXLEN,
        claim_idle_ms: int = DEFAULT_CLAIM_IDLE_MS,
    ) -> None:
        self.client = redis.Redis.from_url(url, socket_timeout=30)
        self.prefix = prefix
        self.maxlen = maxlen
        self.claim_idle_ms = claim_idle_ms

    def stream(self, topic: str) -> str:
        return f"{self.prefix}{topic}"

    def publish(self, topic: str, frame: pl.DataFrame) -> None:
        try:
            with publishing(self.backend, topic, frame) as trace:
                message = encode(frame, trace=trace)
                self.client.xadd(
                    self.stream(topic), {FIELD: message}, maxlen=self.maxlen, approximate=True
                )
        except redis.RedisError as exc:
            raise _failed(exc) from None

    def subscribe(
        self, topic: str, group: str, consumer: str = "consumer-1", *, from_start: bool = True
    ) -> RedisSubscription:
        try:
            self.client.xgroup_create(
                self.stream(topic), group, id="0" if from_start else "$", mkstream=True
            )
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise _failed(exc) from None
        except redis.RedisError as exc:
            raise _failed(exc) from None
        return RedisSubscription(self, topic, group, consumer)

    def rewind(self, topic: str, group: str, since_ns: int) -> None:
        """Entry ids are publish milliseconds: the group's last-delivered id is set to
        just before ``since_ns``, and its pending entries are dropped (read again)."""
        stream = self.stream(topic)
        before = f"{max(since_ns // 1_000_000 - 1, 0)}-18446744073709551615"
        try:
            self.client.xgroup_create(stream, group, id=before, mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise _failed(exc) from None
            self.client.xgroup_destroy(stream, group)
            self.client.xgroup_create(stream, group, id=before, mkstream=True)
        except redis.RedisError as exc:
            raise _failed(exc) from None

    def close(self) -> None:
        self.client.close()


class RedisSubscription:
    """One named consumer of a group on a topic's stream."""

    def __init__(self, bus: RedisBus, topic: str, group: str, consumer: str) -> None:
        self.bus, self.topic, self.group, self.consumer = bus, topic, group, consumer
        self.stream = bus.stream(topic)
        self._own_pending = True  # first read this consumer's entries from before a restart

    def poll(self, max_batches: int = 100, timeout: float = 1.0) -> list[Delivery]:
        try:
            entries = self._pending(max_batches)
            if not entries:
                entries = self._read(max_batches, timeout)
        except redis.RedisError as exc:
            raise _failed(exc) from None
        return self._decoded(entries)

    def _pending(self, count: int) -> list[tuple[bytes, dict[bytes, bytes]]]:
        client = self.bus.client
        if self._own_pending:
            self._own_pending = False
            reply: Any = client.xreadgroup(self.group, self.consumer, {self.stream: "0"})
            own = [entry for entry in (reply[0][1] if reply else []) if entry[1]]
            if own:
                return list(own)
        claimed: Any = client.xautoclaim(
            self.stream, self.group, self.consumer, self.bus.claim_idle_ms, "0-0", count=count
        )
        return [entry for entry in claimed[1] if entry[1]]

    def _read(self, count: int, timeout: float) -> list[tuple[bytes, dict[bytes, bytes]]]:
        block = max(1, int(timeout * 1000))
        reply: Any = self.bus.client.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count, block=block
        )
        return list(reply[0][1]) if reply else []

    def _decoded(self, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> list[Delivery]:
        deliveries: list[Delivery] = []
        for entry_id, fields in entries:
            position = entry_id.decode()
            try:
                frame, stamp, trace = decode(fields.get(FIELD, b""))
            except ValidationError as exc:
                self._bury(position, fields.get(FIELD, b""), exc.message)
                continue
            deliveries.append(Delivery(self.topic, position, frame, stamp, trace))
        return deliveries

    def _bury(self, position: str, raw: bytes, reason: str) -> None:
        """Move an undecodable entry to the dead-letter stream, with why."""
        client = self.bus.client
        dead = {b"raw": raw, b"reason": reason.encode(), b"from": position.encode()}
        client.xadd(self.bus.stream(f"{self.topic}-dead"), dead)  # type: ignore[arg-type]
        client.xack(self.stream, self.group, position)

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        if deliveries:
            try:
                self.bus.client.xack(self.stream, self.group, *(d.position for d in deliveries))
            except redis.RedisError as exc:
                raise _failed(exc) from None

    def lag(self) -> int:
        try:
            groups: Any = self.bus.client.xinfo_groups(self.stream)
        except redis.RedisError as exc:
            raise _failed(exc) from None
        for info in groups:
            name = info["name"]
            if (name.decode() if isinstance(name, bytes) else name) == self.group:
                return int(info.get("lag") or 0) + int(info.get("pending") or 0)
        return 0

    def close(self) -> None:
        """Unacknowledged entries stay pending, for this name or a claimer."""
