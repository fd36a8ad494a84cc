"""One contract for every bus backend, on real Redis and Kafka: batches come back as
published, per symbol in order; acknowledged ones never again; unacknowledged ones to
the group again once their consumer is gone; every group sees everything."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import polars as pl
import pytest
from confluent_kafka import Consumer
from polars.testing import assert_frame_equal

from cift.data.bus import Delivery, EventBus, Subscription
from cift.data.bus.kafka import KafkaBus
from cift.data.bus.memory import MemoryBus
from cift.data.bus.redis import RedisBus
from tests.data.marketdata import random_trades
from tests.servers import Servers

KAFKA = pytest.param("kafka", marks=pytest.mark.serial)  # its group joins time out under load
BACKENDS = ["memory", "redis", KAFKA]
PATIENCE_SECONDS = 30.0


@pytest.fixture(params=BACKENDS)
def bus(request: pytest.FixtureRequest, servers: Servers) -> Iterator[EventBus]:
    """A bus on its own prefix, so tests never read each other's topics."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    made: EventBus
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        made = RedisBus(url, f"{prefix}:", claim_idle_ms=200)
    elif request.param == "kafka":
        made = KafkaBus(servers.address("kafka", "CIFT_TEST_KAFKA_BOOTSTRAP_SERVERS"), f"{prefix}.")
    else:
        made = MemoryBus()
    yield made
    made.close()


def drain(sub: Subscription, want: int, *, ack: bool = True) -> list[Delivery]:
    """Poll until ``want`` batches came (or the patience runs out)."""
    got: list[Delivery] = []
    deadline = time.monotonic() + PATIENCE_SECONDS
    while len(got) < want and time.monotonic() < deadline:
        batch = sub.poll(max_batches=want - len(got), timeout=0.5)
        if ack:
            sub.ack(batch)
        got += batch
    return got


def rows(deliveries: list[Delivery]) -> pl.DataFrame:
    return pl.concat([d.frame for d in deliveries]).sort("symbol", "ts", "trade_id")


def batches(n: int, symbols: list[str]) -> list[pl.DataFrame]:
    frame = random_trades(n * 50, symbols).sort("ts")
    return [frame.slice(i * 50, 50) for i in range(n)]


def published(bus: EventBus, parts: list[pl.DataFrame]) -> pl.DataFrame:
    for part in parts:
        bus.publish("trades", part)
    return pl.concat(parts).sort("symbol", "ts", "trade_id")


def test_batches_come_back_as_published_and_in_order_per_symbol(bus: EventBus) -> None:
    sub = bus.subscribe("trades", "store")
    started = time.time_ns()
    expected = published(bus, batches(6, ["AAA", "BBB"]))
    got = drain(sub, 12 if bus.backend == "kafka" else 6)  # kafka: one per partition
    sub.close()
    assert_frame_equal(rows(got), expected)
    for symbol in ("AAA", "BBB"):
        times = pl.concat([d.frame for d in got]).filter(pl.col("symbol") == symbol)["ts"]
        assert times.is_sorted(), f"{symbol} out of publish order"
    assert all(started - 10**9 <= d.published_ns <= time.time_ns() for d in got)


def test_acknowledged_batches_are_never_delivered_again(bus: EventBus) -> None:
    sub = bus.subscribe("trades", "store")
    published(bus, batches(3, ["AAA"]))
    assert len(drain(sub, 3)) == 3
    assert sub.lag() == 0
    sub.close()
    again = bus.subscribe("trades", "store", "consumer-2")
    assert again.poll(timeout=2.0) == []
    again.close()


def test_unacknowledged_batches_go_to_the_group_again(bus: EventBus) -> None:
    first = bus.subscribe("trades", "store", "consumer-1")
    expected = published(bus, batches(4, ["AAA"]))
    held = drain(first, 4, ack=False)
    assert len(held) == 4
    assert first.lag() == 4
    first.ack(held[:1])
    first.close()
    time.sleep(0.3)  # Redis: pending entries are claimed once idle 200 ms
    second = bus.subscribe("trades", "store", "consumer-2")
    redelivered = drain(second, 3)
    second.close()
    assert_frame_equal(rows(held[:1] + redelivered), expected)


def test_a_rewound_group_reads_again_from_a_time(bus: EventBus) -> None:
    parts = batches(6, ["AAA"])
    sub = bus.subscribe("trades", "store")
    published(bus, parts[:3])
    time.sleep(0.05)
    since = time.time_ns()
    time.sleep(0.05)
    later = published(bus, parts[3:])
    drain(sub, 6)
    sub.close()
    bus.rewind("trades", "store", since)
    again = bus.subscribe("trades", "store")
    replayed = drain(again, 3)
    assert_frame_equal(rows(replayed), later)
    assert again.poll(timeout=1.0) == []
    again.close()
    bus.rewind("trades", "fresh", 0)  # a new group from the very start
    everything = drain(bus.subscribe("trades", "fresh"), 6)
    assert rows(everything).height == 300


def test_every_group_reads_everything_and_late_groups_start_at_the_end(bus: EventBus) -> None:
    store, bars = bus.subscribe("trades", "store"), bus.subscribe("trades", "bars")
    expected = published(bus, batches(3, ["AAA"]))
    assert_frame_equal(rows(drain(store, 3)), expected)
    assert_frame_equal(rows(drain(bars, 3)), expected)
    late = bus.subscribe("trades", "late", from_start=False)
    if bus.backend == "kafka":
        late.poll(timeout=5.0)  # joins the group and takes its partitions at their end
    newer = published(bus, batches(2, ["ZZZ"]))
    assert_frame_equal(rows(drain(late, 2)), newer)
    for sub in (store, bars, late):
        sub.close()


@pytest.fixture(params=["redis", KAFKA])
def wire_bus(request: pytest.FixtureRequest, servers: Servers) -> Iterator[RedisBus | KafkaBus]:
    """The backends that carry bytes, where a message can be undecodable."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    made: RedisBus | KafkaBus
    if request.param == "redis":
        made = RedisBus(request.getfixturevalue("redis_url"), f"{prefix}:")
    else:
        made = KafkaBus(servers.address("kafka", "CIFT_TEST_KAFKA_BOOTSTRAP_SERVERS"), f"{prefix}.")
    yield made
    made.close()


def send_raw(bus: RedisBus | KafkaBus, raw: bytes) -> None:
    if isinstance(bus, RedisBus):
        bus.client.xadd(bus.stream("trades"), {b"batch": raw})
    else:
        bus.producer.produce(bus.ensure("trades"), raw, key="AAA")
        bus.producer.flush(10)


def dead_letters(bus: RedisBus | KafkaBus) -> list[tuple[bytes, str]]:
    """(raw message, reason) of what went to ``trades-dead``."""
    if isinstance(bus, RedisBus):
        entries = bus.client.xrange(bus.stream("trades-dead"))
        return [(fields[b"raw"], fields[b"reason"].decode()) for _, fields in entries]
    reader = Consumer(
        {"bootstrap.servers": bus.bootstrap, "group.id": "inspect", "auto.offset.reset": "earliest"}
    )
    reader.subscribe([bus.name("trades-dead")])
    found: list[tuple[bytes, str]] = []
    deadline = time.monotonic() + PATIENCE_SECONDS
    while not found and time.monotonic() < deadline:
        for message in reader.consume(num_messages=10, timeout=0.5):
            if message.error() is None:
                reason = dict(message.headers() or [])["reason"]
                found.append((message.value() or b"", bytes(reason).decode()))
    reader.close()
    return found


def test_an_undecodable_message_goes_to_the_dead_letters_and_the_flow_goes_on(
    wire_bus: RedisBus | KafkaBus,
) -> None:
    sub = wire_bus.subscribe("trades", "store")
    good = batches(2, ["AAA"])
    wire_bus.publish("trades", good[0])
    send_raw(wire_bus, b"not a batch at all")
    wire_bus.publish("trades", good[1])
    got = drain(sub, 2)
    assert sub.poll(timeout=1.0) == []
    assert sub.lag() == 0
    sub.close()
    assert_frame_equal(rows(got), pl.concat(good).sort("symbol", "ts", "trade_id"))
    ((raw, reason),) = dead_letters(wire_bus)
    assert raw == b"not a batch at all"
    assert "CIFT batch header" in reason
