"""The store stage in one process: what the bus carries ends in the store once, its
metrics say so on /metrics, and a bad option is a clear error."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from cift.cli.app import app
from cift.core.metrics import serve
from cift.data.aggregate import trades_to_bars
from cift.data.bus.memory import MemoryBus
from cift.data.store.embedded import EmbeddedStore
from cift.data.stream import StageMetrics, StageStats, store_stage
from cift.model import DataKind, Timeframe
from tests.data.marketdata import random_trades
from tests.data.stream.running import run_stage
from tests.serving import free_port


def run_until(
    bus: MemoryBus,
    store: EmbeddedStore,
    kind: DataKind,
    done: Callable[[StageStats], bool],
    **options: Any,
) -> StageStats:
    """Run the store stage in a thread until ``done(stats)`` or 30 s."""
    return run_stage(store_stage, bus, store, kind, done=done, **options)


def test_trades_are_stored_once_and_counted_on_metrics(tmp_path: Path) -> None:
    bus, store = MemoryBus(), EmbeddedStore(tmp_path / "market")
    trades = random_trades(3_000, ["AAA", "BBB"]).sort("ts")
    parts = [trades.slice(i * 500, 500) for i in range(6)]
    for part in [*parts, parts[0], parts[3]]:  # two delivered twice, as after a crash
        bus.publish("trades", part)
    metrics = StageMetrics("store-counted")  # a stage of its own in this process
    port = free_port()
    serve(port)
    stats = run_until(bus, store, DataKind.TRADES, lambda s: s.batches == 8, metrics=metrics)

    assert (stats.batches, stats.rows_received, stats.rows_stored, stats.lag) == (
        8,
        4_000,
        3_000,
        0,
    )
    stored = store.read(DataKind.TRADES).collect()
    assert_frame_equal(stored, trades.sort("symbol", "ts", "trade_id"))
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    labels = '{stage="store-counted",topic="trades"}'
    assert f"cift_stream_received_rows_total{labels} 4000.0" in text
    assert f"cift_stream_written_rows_total{labels} 3000.0" in text
    assert f"cift_stream_batches_total{labels} 8.0" in text
    assert f"cift_stream_consumer_lag_batches{labels} 0.0" in text
    assert f"cift_stream_publish_to_done_seconds_count{labels} 8.0" in text
    written = 'cift_store_written_rows_total{backend="embedded",kind="trades"}'
    assert written in text  # the store's own metrics, on the same endpoint


def test_bars_are_stored_under_their_timeframe(tmp_path: Path) -> None:
    bus, store = MemoryBus(), EmbeddedStore(tmp_path / "market")
    minute = Timeframe.parse("1m")
    bars = trades_to_bars(random_trades(2_000, ["AAA"]).lazy(), minute).collect()
    bus.publish("bars", bars)
    run_until(bus, store, DataKind.BARS, lambda s: s.batches == 1, timeframe=minute)
    assert_frame_equal(store.read(DataKind.BARS, timeframe=minute).collect(), bars)


def test_a_stage_stopped_before_its_first_poll_takes_nothing(tmp_path: Path) -> None:
    bus, store = MemoryBus(), EmbeddedStore(tmp_path / "market")
    stop = threading.Event()
    stop.set()  # stops before its first poll
    store_stage(bus, store, DataKind.TRADES, stop)
    bus.publish("trades", random_trades(10, ["AAA"]))
    later = bus.subscribe("trades", "store")
    assert [d.frame.height for d in later.poll(timeout=1)] == [10]


def test_bars_without_a_timeframe_are_refused() -> None:
    answer = CliRunner().invoke(app, ["stream", "store", "--kind", "bars"])
    assert answer.exit_code != 0
    assert "Bars need --timeframe" in answer.output
