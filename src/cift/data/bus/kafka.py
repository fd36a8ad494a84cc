"""The Kafka bus: one topic per kind; a batch is split by partition, each symbol always
in the partition a stable hash of its name picks, so each symbol's events keep their
order (one message per partition, not per symbol: a thousand-row batch of a hundred
symbols is three messages, not a hundred). Offsets are committed only after the consumer
acknowledges (its batch is durable downstream).

The producer is idempotent with ``acks=all``: a retried send is written once. A consumer
that stops without acknowledging leaves its offsets where they were, so the group reads
those batches again. Undecodable messages go to ``<topic>-dead`` with the reason.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence

import polars as pl
from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from cift.core.errors import UpstreamError, ValidationError
from cift.core.tracing import Carrier
from cift.data.bus.base import Delivery, publishing
from cift.data.bus.codec import decode, encode

DEFAULT_PARTITIONS = 3
MESSAGE_BYTES = 512 * 1024
"""About the most a message carries: half the brokers' default limit (1 MB)."""
FLUSH_TIMEOUT_SECONDS = 30.0


def _failed(what: str, exc: object) -> UpstreamError:
    return UpstreamError(
        f"Kafka {what} failed ({exc}); check the brokers and CIFT_KAFKA_BOOTSTRAP_SERVERS."
    )


class KafkaBus:
    """Topics named ``<prefix><topic>`` on the brokers at ``bootstrap``."""

    backend = "kafka"

    def __init__(
        self, bootstrap: str, prefix: str = "cift.", *, partitions: int = DEFAULT_PARTITIONS
    ) -> None:
        self.bootstrap, self.prefix, self.partitions = bootstrap, prefix, partitions
        self.producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "compression.type": "lz4",
            }
        )
        self._known: dict[str, int] = {}  # topic -> its partition count

    def name(self, topic: str) -> str:
        return f"{self.prefix}{topic}"

    def ensure(self, topic: str) -> str:
        """The Kafka topic of ``topic``, created with ``partitions`` partitions if absent."""
        name = self.name(topic)
        if name in self._known:
            return name
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        count = self.partitions
        try:
            existing = admin.list_topics(timeout=10).topics
            if name in existing:
                count = len(existing[name].partitions) or count
            else:
                for future in admin.create_topics([NewTopic(name, self.partitions, 1)]).values():
                    future.result(timeout=30)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise _failed(f"creating topic {name}", exc) from None
        self._known[name] = count
        return name

    def publish(self, topic: str, frame: pl.DataFrame) -> None:
        name = self.ensure(topic)
        errors: list[KafkaError] = []

        def delivered(error: KafkaError | None, _: Message) -> None:
            if error is not None:
                errors.append(error)

        with publishing(self.backend, topic, frame) as trace:
            try:
                for partition, part in self._split(name, frame):
                    for message in _messages(part, trace):
                        self.producer.produce(
                            name, message, partition=partition, on_delivery=delivered
                        )
                        self.producer.poll(0)
            except (KafkaException, BufferError) as exc:
                raise _failed(f"publishing to {name}", exc) from None
            if self.producer.flush(FLUSH_TIMEOUT_SECONDS) or errors:
                raise _failed(f"publishing to {name}", errors[0] if errors else "flush timed out")

    def _split(self, name: str, frame: pl.DataFrame) -> list[tuple[int, pl.DataFrame]]:
        """The frame's rows by the partition of their symbol (order kept)."""
        count = self._known[name]
        if "symbol" not in frame.columns or frame.is_empty() or count == 1:
            return [(0, frame)]
        names = pl.col("symbol").cast(pl.String).fill_null("")
        symbols = frame.select(names.unique()).to_series().to_list()
        where = {s: zlib.crc32(s.encode()) % count for s in symbols}
        if len(set(where.values())) == 1:
            return [(next(iter(where.values())), frame)]
        column = names.replace_strict(where, return_dtype=pl.Int32)
        parts = frame.with_columns(column.alias("_partition")).partition_by(
            "_partition", as_dict=True, maintain_order=True, include_key=False
        )
        return [(int(key[0]), part) for key, part in parts.items()]

    def subscribe(
        self, topic: str, group: str, consumer: str = "consumer-1", *, from_start: bool = True
    ) -> KafkaSubscription:
        return KafkaSubscription(self, self.ensure(topic), topic, group, consumer, from_start)

    def rewind(self, topic: str, group: str, since_ns: int) -> None:
        """The group's committed offset of each partition set to its first message
        stamped at or after ``since_ns`` (the partition's end if none)."""
        name = self.ensure(topic)
        since_ms = since_ns // 1_000_000
        probe = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"{group}-rewind"})
        try:
            wanted = [TopicPartition(name, p, since_ms) for p in range(self._known[name])]
            found = probe.offsets_for_times(wanted, timeout=10)
            offsets = []
            for tp in found:
                if tp.offset < 0:  # nothing that late: the end
                    tp.offset = probe.get_watermark_offsets(tp, timeout=10)[1]
                offsets.append(TopicPartition(name, tp.partition, tp.offset))
            admin = AdminClient({"bootstrap.servers": self.bootstrap})
            request = [ConsumerGroupTopicPartitions(group, offsets)]
            for future in admin.alter_consumer_group_offsets(request).values():
                future.result(timeout=30)
        except KafkaException as exc:
            raise _failed(f"rewinding {name} for {group}", exc) from None
        finally:
            probe.close()

    def close(self) -> None:
        self.producer.flush(FLUSH_TIMEOUT_SECONDS)


def _messages(frame: pl.DataFrame, trace: Carrier) -> list[bytes]:
    """``frame`` encoded, in consecutive slices of at most ``MESSAGE_BYTES`` each."""
    message = encode(frame, trace=trace)
    if len(message) <= MESSAGE_BYTES or frame.height < 2:
        return [message]
    slices = -(-len(message) // MESSAGE_BYTES)
    rows = -(-frame.height // slices)
    return [
        m
        for start in range(0, frame.height, rows)
        for m in _messages(frame.slice(start, rows), trace)
    ]


class KafkaSubscription:
    """One consumer of a group; commits the acknowledged prefix of each partition."""

    def __init__(
        self, bus: KafkaBus, name: str, topic: str, group: str, consumer: str, from_start: bool
    ) -> None:
        self.bus, self.name, self.topic = bus, name, topic
        self.consumer = Consumer(
            {
                "bootstrap.servers": bus.bootstrap,
                "group.id": group,
                "client.id": consumer,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest" if from_start else "latest",
                "session.timeout.ms": 6_000,  # the brokers' least: a dead share moves soon
                "max.partition.fetch.bytes": 16 * 1024 * 1024,  # many batches per fetch
                "fetch.wait.max.ms": 20,
            }
        )
        self.consumer.subscribe([name])
        self._open: dict[int, list[int]] = defaultdict(list)  # delivered, not acked
        self._acked: dict[int, set[int]] = defaultdict(set)

    def poll(self, max_batches: int = 100, timeout: float = 1.0) -> list[Delivery]:
        try:
            # What the client holds already, at once; else wait for the first to arrive
            # (``consume`` alone would wait out ``timeout`` for a full ``max_batches``).
            messages = self.consumer.consume(num_messages=max_batches, timeout=0)
            if not messages:
                first = self.consumer.poll(timeout)
                more = self.consumer.consume(max_batches - 1, 0) if max_batches > 1 else []
                messages = ([first] if first is not None else []) + more
        except KafkaException as exc:
            raise _failed(f"reading {self.name}", exc) from None
        deliveries = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise _failed(f"reading {self.name}", error)
            partition, offset = int(message.partition() or 0), int(message.offset() or 0)
            self._open[partition].append(offset)
            try:
                frame, stamp, trace = decode(message.value() or b"")
            except ValidationError as exc:
                self._bury(message, exc.message)
                self._settle(partition, offset)
                continue
            position = f"{partition}:{offset}"
            deliveries.append(Delivery(self.topic, position, frame, stamp, trace))
        return deliveries

    def _bury(self, message: Message, reason: str) -> None:
        dead = self.bus.ensure(f"{self.topic}-dead")
        headers: dict[str, str | bytes | None] = {"reason": reason, "from": self.name}
        self.bus.producer.produce(dead, message.value(), key=message.key(), headers=headers)
        self.bus.producer.flush(FLUSH_TIMEOUT_SECONDS)

    def ack(self, deliveries: Sequence[Delivery]) -> None:
        touched = set()
        for delivery in deliveries:
            partition, offset = (int(x) for x in delivery.position.split(":"))
            self._acked[partition].add(offset)
            touched.add(partition)
        self._commit(touched)

    def _settle(self, partition: int, offset: int) -> None:
        """Mark ``offset`` done and commit its partition's acknowledged prefix."""
        self._acked[partition].add(offset)
        self._commit({partition})

    def _commit(self, partitions: set[int]) -> None:
        """Commit, in one call, each partition up to its first open offset."""
        offsets = []
        for partition in sorted(partitions):
            open_offsets, acked = self._open[partition], self._acked[partition]
            done = 0
            while done < len(open_offsets) and open_offsets[done] in acked:
                acked.discard(open_offsets[done])
                done += 1
            if done:
                offsets.append(TopicPartition(self.name, partition, open_offsets[done - 1] + 1))
                del open_offsets[:done]
        if not offsets:
            return
        try:
            self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            raise _failed(f"committing {self.name}", exc) from None

    def lag(self) -> int:
        """Messages of the assigned partitions after the group's committed offsets."""
        behind = 0
        try:
            assigned = self.consumer.assignment()
            for tp in self.consumer.committed(assigned, timeout=10):
                low, high = self.consumer.get_watermark_offsets(tp, timeout=10)
                behind += high - (tp.offset if tp.offset >= 0 else low)
        except KafkaException as exc:
            raise _failed(f"measuring {self.name}", exc) from None
        return behind

    def close(self) -> None:
        """Leave the group; what was not acknowledged is read again by the group."""
        self.consumer.close()
