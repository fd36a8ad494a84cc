"""Kafka smoke: the broker the streaming bus builds on accepts an idempotent producer.

A keyed produce/consume round trip over a fresh multi-partition topic proves the broker
takes ``acks=all`` idempotent writes, keeps per-key order and delivers every record once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.servers import Servers, server_missing

PARTITIONS = 3
RECORDS = 3_000
SYMBOLS = ["AAPL", "MSFT", "ORCL", "SPY", "QQQ"]


@pytest.fixture(scope="module")
def bootstrap(servers: Servers) -> str:
    address = servers.address("kafka", "CIFT_TEST_KAFKA_BOOTSTRAP_SERVERS")
    try:
        AdminClient({"bootstrap.servers": address}).list_topics(timeout=10)
    except KafkaException as exc:
        server_missing("Kafka", exc)
    return address


@pytest.fixture
def topic(bootstrap: str) -> Iterator[str]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    name = f"cift-test-{uuid.uuid4().hex[:12]}"
    (future,) = admin.create_topics([NewTopic(name, PARTITIONS, 1)]).values()
    future.result(timeout=30)
    yield name
    (future,) = admin.delete_topics([name]).values()
    future.result(timeout=30)


def produce(bootstrap: str, topic: str) -> list[Message]:
    """Send RECORDS keyed records; return their delivery reports."""
    producer = Producer(
        {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 5}
    )
    reports: list[Message] = []
    errors: list[KafkaError] = []

    def delivered(error: KafkaError | None, message: Message) -> None:
        if error is not None:
            errors.append(error)
        reports.append(message)

    for sequence in range(RECORDS):
        symbol = SYMBOLS[sequence % len(SYMBOLS)]
        producer.produce(topic, key=symbol, value=str(sequence), on_delivery=delivered)
        producer.poll(0)
    assert producer.flush(30) == 0, "records still queued after 30 s"
    assert errors == []
    return reports


def consume(bootstrap: str, topic: str, expected: int) -> list[Message]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"{topic}-reader",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    received: list[Message] = []
    try:
        for _ in range(120):
            for message in consumer.consume(num_messages=1_000, timeout=0.5):
                assert message.error() is None, message.error()
                received.append(message)
            if len(received) >= expected:
                break
    finally:
        consumer.close()
    return received


def test_idempotent_round_trip_keeps_every_record_once_in_key_order(
    bootstrap: str, topic: str
) -> None:
    reports = produce(bootstrap, topic)
    received = consume(bootstrap, topic, RECORDS)

    assert len(received) == RECORDS
    values = [int(message.value()) for message in received]
    assert sorted(values) == list(range(RECORDS))
    for symbol in SYMBOLS:
        sequence = [int(m.value()) for m in received if m.key() == symbol.encode()]
        assert sequence == sorted(sequence), f"{symbol} records out of order"
        assert len({m.partition() for m in received if m.key() == symbol.encode()}) == 1
    for partition in range(PARTITIONS):
        offsets = sorted(r.offset() for r in reports if r.partition() == partition)
        assert offsets == list(range(len(offsets))), f"partition {partition} has gaps"
