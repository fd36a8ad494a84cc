"""Streaming: the simulator's trades through Kafka into the stores, next to a
hand-written confluent-kafka consumer writing the same events with QuestDB's client.

1. Throughput. The trades are published once (CIFT's Kafka bus: Arrow IPC batches keyed
   by symbol, idempotent producer, acks=all); then each consumer reads the whole topic
   as a group of its own: CIFT's store stage into the embedded store, the same into
   QuestDB, and a hand-written loop (confluent-kafka ``consume``, pyarrow IPC decode,
   ``Sender.dataframe``, ``flush``, commit, then the wait until QuestDB applied it).
   Then the sustained path: publishing and storing at once, first publish to last row
   stored.
2. Latency at a paced 100k trades/s (1,000 every 10 ms): publish to stored, per batch.
3. Live features at 10k trades/s over 100 symbols (100 trades every 10 ms): publish to
   the value kept as the latest, for a tick-level set (cumulative delta, Kyle's lambda).
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
from confluent_kafka import Consumer
from questdb import Sender

from cift.data.bus import EventBus
from cift.data.bus.codec import _HEADER
from cift.data.bus.kafka import KafkaBus
from cift.data.bus.memory import MemoryBus
from cift.data.providers.synthetic import SyntheticProvider
from cift.data.store.base import MarketStore
from cift.data.store.embedded import EmbeddedStore
from cift.data.stream import StageStats, store_stage
from cift.data.stream.board import LocalBoard
from cift.features.live.stage import features_stage
from cift.features.pipeline import FeatureSet
from cift.model import DataKind

from common import machine, table
from store_questdb import drop, store, wait_applied

BATCH_ROWS = 50_000
PG_URL = "postgresql://admin:quest@127.0.0.1:8812/qdb"
ILP_CONF = "http::addr=127.0.0.1:9000;"
KAFKA = "127.0.0.1:9092"


def simulated(rows: int, symbols: int) -> pl.DataFrame:
    """At least ``rows`` simulated trades of ``symbols`` symbols, in time order."""
    names = [f"S{i:03d}" for i in range(symbols)]
    provider = SyntheticProvider()
    start, frames, held = datetime(2024, 1, 2, tzinfo=UTC), [], 0
    while held < rows:
        end = start + timedelta(days=7)
        frames += list(provider.trades(names, start, end))
        held, start = sum(f.height for f in frames), end
    return pl.concat(frames).sort("ts").head(rows)


def batches(frame: pl.DataFrame, rows: int) -> list[pl.DataFrame]:
    return [frame.slice(i, rows) for i in range(0, frame.height, rows)]


def warm_row(frame: pl.DataFrame) -> pl.DataFrame:
    """One trade of a symbol of its own, published first so the timed part starts once
    the consumer has joined its group (a Kafka join takes seconds, once)."""
    return frame.head(1).with_columns(pl.lit("WARM").alias("symbol"))


def timed(
    target: Callable[..., StageStats],
    bus: EventBus,
    load: Callable[[], object],
    warm: pl.DataFrame,
    rows: int,
    **options: object,
) -> tuple[float, StageStats]:
    """Seconds from the start of ``load`` (publishing ``rows`` rows, in a thread) until
    the stage has taken them all, the stage having joined first; and its stats."""
    stop, out, began = threading.Event(), [], [0.0]
    joined, done = threading.Event(), [float("nan")]

    def progress(stats: StageStats) -> None:
        if stats.rows_received >= warm.height:
            joined.set()
        if stats.rows_received >= warm.height + rows and not stop.is_set():
            done[0] = time.perf_counter() - began[0]
            stop.set()

    worker = threading.Thread(
        target=lambda: out.append(target(bus=bus, stop=stop, on_progress=progress, **options))
    )
    worker.start()
    bus.publish("trades", warm)
    joined.wait(60)
    began[0] = time.perf_counter()
    producer = threading.Thread(target=load)
    producer.start()
    producer.join()
    worker.join(600)
    return done[0], out[0]


def hand_written(frame: pl.DataFrame, table_name: str) -> float:
    """A confluent-kafka consumer writing the batches with the QuestDB client: joined
    first (on a warm-up row), then timed from the first publish to the last row applied."""
    bus = KafkaBus(KAFKA, f"bench{uuid.uuid4().hex[:8]}.")
    topic = bus.ensure("trades")
    consumer = Consumer(
        {
            "bootstrap.servers": KAFKA,
            "group.id": f"hand-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    bus.publish("trades", warm_row(frame))
    taken, wanted, began = 0, frame.height + 1, 0.0
    producer = threading.Thread(target=lambda: publish_all(bus, frame))
    with Sender.from_conf(ILP_CONF) as sender:
        while taken < wanted:
            messages = [m for m in consumer.consume(500, timeout=0.2) if m.error() is None]
            if not messages:
                continue
            tables = [
                pa.ipc.open_stream(io.BytesIO(m.value()[_HEADER.size :])).read_all()
                for m in messages
            ]
            rows = pa.concat_tables(tables).to_pandas()
            rows["ts"] = rows["ts"].dt.tz_localize(None)
            sender.dataframe(rows, table_name=table_name, symbols=["symbol", "exchange"], at="ts")
            sender.flush()
            consumer.commit(asynchronous=False)
            taken += len(rows)
            if not producer.is_alive() and not began:
                began = time.perf_counter()  # joined and warm: now the timed part
                producer.start()
    wait_applied(PG_URL, table_name)
    seconds = time.perf_counter() - began
    producer.join()
    consumer.close()
    bus.close()
    return seconds


def publish_all(bus: EventBus, frame: pl.DataFrame) -> None:
    for part in batches(frame, BATCH_ROWS):
        bus.publish("trades", part)


def paced(
    bus: EventBus, parts: list[pl.DataFrame], every: float, sent: list[tuple[int, float]]
) -> None:
    """Publish ``parts`` one every ``every`` seconds, noting each one's newest ts."""
    due = time.perf_counter()
    for part in parts:
        due += every
        time.sleep(max(0.0, due - time.perf_counter()))
        bus.publish("trades", part)
        sent.append((int(part.get_column("ts").dt.epoch("ns").max()), time.time()))


def quantiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]


def kafka() -> KafkaBus:
    return KafkaBus(KAFKA, f"bench{uuid.uuid4().hex[:8]}.")


def throughput(frame: pl.DataFrame, work: Path) -> list[list[str]]:
    rows, warm = frame.height, warm_row(frame)
    bus = kafka()
    bus.publish("trades", warm)
    began = time.perf_counter()
    publish_all(bus, frame)
    publish = time.perf_counter() - began
    bus.close()
    results = [
        ["CIFT Kafka bus publish alone", f"{publish:.2f}", f"{rows / publish / 1e3:,.0f}", "-"]
    ]

    def stage_into(target: MarketStore) -> float:
        fresh = kafka()
        seconds, _ = timed(
            store_stage,
            fresh,
            lambda: publish_all(fresh, frame),
            warm,
            rows,
            store=target,
            kind=DataKind.TRADES,
        )
        fresh.close()
        return seconds

    embedded = stage_into(EmbeddedStore(work / "embedded"))
    results.append(
        [
            "publish + store stage -> embedded store",
            f"{embedded:.2f}",
            f"{rows / embedded / 1e3:,.0f}",
            "-",
        ]
    )
    quest = store(PG_URL, ILP_CONF)
    hand_target = store(PG_URL, ILP_CONF)
    try:
        cift_q = stage_into(quest)
        table_obj = hand_target.names.market(DataKind.TRADES, None)
        hand_target.ensure(table_obj)
        hand = hand_written(frame, table_obj.name)
    finally:
        drop(quest)
        drop(hand_target)
    results.append(
        [
            "publish + store stage -> QuestDB",
            f"{cift_q:.2f}",
            f"{rows / cift_q / 1e3:,.0f}",
            f"**{cift_q / hand:.2f}**",
        ]
    )
    results.append(
        [
            "publish + hand-written consumer -> QuestDB (ILP)",
            f"{hand:.2f}",
            f"{rows / hand / 1e3:,.0f}",
            "1.00",
        ]
    )
    return results


def latency(frame: pl.DataFrame, target: MarketStore, name: str) -> list[str]:
    """Publish to stored at 100k trades/s (1,000 every 10 ms)."""
    bus = kafka()
    parts = batches(frame, 1_000)
    sent: list[tuple[int, float]] = []
    _, stats = timed(
        store_stage,
        bus,
        lambda: paced(bus, parts, 0.01, sent),
        warm_row(frame),
        frame.height,
        store=target,
        kind=DataKind.TRADES,
    )
    bus.close()
    p50, p99 = quantiles(list(stats.latencies_ms)[1:])  # the warm-up row waited for the join
    rate = frame.height / (sent[-1][1] - sent[0][1])
    return [name, f"{rate:,.0f}", f"{p50:,.1f}", f"{p99:,.1f}", "under 500"]


class TimedBoard(LocalBoard):
    """A board that notes when each symbol's newest values were kept."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.kept: list[tuple[int, float]] = []

    def put_latest(self, set_id: str, rows: pl.DataFrame) -> None:
        super().put_latest(set_id, rows)
        self.kept.append((int(rows.get_column("ts").dt.epoch("ns").max()), time.time()))


def live_features(frame: pl.DataFrame, work: Path, backend: str) -> list[str]:
    """Publish to latest value at 10k trades/s (100 every 10 ms) over the symbols."""
    bus: EventBus = MemoryBus() if backend == "memory" else kafka()
    ticks = FeatureSet.from_text(
        "ticks", "cumulative_delta,kyle_lambda(50)", kind=DataKind.TRADES, timeframe=None
    )
    board = TimedBoard(work)
    parts = batches(frame, 100)
    sent: list[tuple[int, float]] = []
    timed(
        features_stage,
        bus,
        lambda: paced(bus, parts, 0.01, sent),
        warm_row(frame),
        frame.height,
        store=EmbeddedStore(work / f"features-{backend}"),
        board=board,
        feature_set=ticks,
    )
    bus.close()
    published = dict(sent)
    waits = [(at - published[ts]) * 1e3 for ts, at in board.kept if ts in published]
    p50, p99 = quantiles(waits)
    rate = frame.height / (sent[-1][1] - sent[0][1])
    return [
        f"features stage ({backend} bus)",
        f"{rate:,.0f}",
        f"{p50:,.2f}",
        f"{p99:,.2f}",
        "under 5",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=2_000_000)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--latency-trades", type=int, default=500_000)
    parser.add_argument("--feature-trades", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cift-bench-stream-"))
    frame = simulated(args.trades, args.symbols)
    print(f"Machine: {machine()}\n")
    header = ["path", "seconds", "k trades/s", "time vs hand-written"]
    print(
        table(
            f"{frame.height:,} simulated trades of {args.symbols} symbols through Kafka",
            header,
            throughput(frame, work),
        )
    )
    head = frame.head(args.latency_trades)
    rows = [latency(head, EmbeddedStore(work / "latency"), "store stage -> embedded")]
    quest = store(PG_URL, ILP_CONF)
    try:
        rows.append(latency(head, quest, "store stage -> QuestDB"))
    finally:
        drop(quest)
    print(
        table(
            "Publish to stored at a paced 100k trades/s",
            ["path", "trades/s", "p50 ms", "p99 ms", "target ms"],
            rows,
        )
    )
    ticks = frame.head(args.feature_trades)
    rows = [live_features(ticks, work, "memory"), live_features(ticks, work, "kafka")]
    print(
        table(
            "Publish to live feature value at 10k trades/s",
            ["path", "trades/s", "p50 ms", "p99 ms", "target ms"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
