"""The wire format of a batch, and the in-process bus's back-pressure."""

from __future__ import annotations

import io
import struct
import threading
import time

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cift.core.errors import UpstreamError, ValidationError
from cift.data.bus import memory
from cift.data.bus.codec import SCHEMA_VERSION, decode, encode
from cift.model import SCHEMAS, DataKind
from tests.data.marketdata import random_trades


def test_a_batch_round_trips_with_every_dtype_and_null() -> None:
    trades = random_trades(500, ["AAA", "BBB"]).with_columns(
        pl.when(pl.col("size") > 250).then(None).otherwise(pl.col("exchange")).alias("exchange")
    )
    frame, stamp, trace = decode(encode(trades, published_ns=123))
    assert_frame_equal(frame, trades)
    assert frame.schema == SCHEMAS[DataKind.TRADES]
    assert (stamp, trace) == (123, {})


def test_a_batch_carries_its_publishers_trace_context() -> None:
    context = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    frame, _, trace = decode(encode(random_trades(5, ["AAA"]), trace=context))
    assert trace == context
    assert frame.height == 5


def test_a_version_1_batch_still_decodes_without_context() -> None:
    trades = random_trades(20, ["AAA"])
    body = io.BytesIO()
    trades.write_ipc_stream(body, compression="uncompressed")
    message = struct.pack(">4sHq", b"CIFT", 1, 77) + body.getvalue()
    frame, stamp, trace = decode(message)
    assert_frame_equal(frame, trades)
    assert (stamp, trace) == (77, {})


@pytest.mark.parametrize(
    ("message", "says"),
    [
        (b"", "too short"),
        (b"JSON{}............", "not a CIFT batch header"),
        (encode(pl.DataFrame({"a": [1]}))[:20] + b"garbage", "cannot be read"),
        (b"CIFT" + (SCHEMA_VERSION + 1).to_bytes(2, "big") + encode(pl.DataFrame())[6:], "version"),
    ],
    ids=["empty", "json", "truncated", "newer-version"],  # the bytes carry a time stamp
)
def test_what_is_no_batch_is_a_poison_message(message: bytes, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        decode(message)


def test_a_stalled_consumer_holds_its_publisher_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "PUBLISH_TIMEOUT_SECONDS", 0.5)
    bus = memory.MemoryBus(capacity=3)
    sub = bus.subscribe("trades", "slow")
    part = random_trades(10, ["AAA"])
    for _ in range(3):
        bus.publish("trades", part)
    with pytest.raises(UpstreamError, match="3 batches behind"):
        bus.publish("trades", part)
    released = threading.Thread(target=lambda: (time.sleep(0.2), sub.ack(sub.poll(1))))
    released.start()
    bus.publish("trades", part)  # waits until the consumer acknowledged one
    released.join()
    assert sub.lag() == 3


def test_a_topic_nobody_reads_keeps_only_its_newest_batches() -> None:
    bus = memory.MemoryBus(capacity=3)
    for size in range(1, 8):
        bus.publish("trades", random_trades(size, ["AAA"]))
    reader = bus.subscribe("trades", "late")
    assert [d.frame.height for d in reader.poll(10, timeout=0.1)] == [5, 6, 7]
