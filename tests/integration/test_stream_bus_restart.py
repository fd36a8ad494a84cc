"""Redis and Kafka restarted mid-stream: the producer and ``cift stream store`` ride it
out by themselves (waiting, then going on), and the store ends with every trade once."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from cift.core.errors import UpstreamError
from cift.data.bus import EventBus
from tests.data.marketdata import random_trades
from tests.integration.test_stream_store_kill import (
    KEYS,
    bus_and_environment,
    said,
    stage,
    stored,
)
from tests.servers import Servers, run_script

pytestmark = [pytest.mark.slow, pytest.mark.serial]  # restarts the servers

BATCHES, ROWS = 40, 250


def publish_through(bus: EventBus, parts: list, errors: list[str]) -> None:  # type: ignore[type-arg]
    """Publish each part, trying again while the bus is down (as the ingest stage does)."""
    for part in parts:
        while True:
            try:
                bus.publish("trades", part)
                break
            except UpstreamError as exc:
                errors.append(exc.message)
                time.sleep(0.5)
        time.sleep(0.25)  # slow enough that the restart meets the stream


@pytest.mark.parametrize("backend", ["redis", "kafka"])
def test_a_bus_restarted_mid_stream_loses_and_repeats_nothing(
    backend: str, servers: Servers, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    bus, env = bus_and_environment(backend, servers, request)
    home = tmp_path / "cift-home"
    trades = random_trades(BATCHES * ROWS, ["AAA", "BBB", "CCC"], seed=3)
    parts = [trades.slice(i * ROWS, ROWS) for i in range(BATCHES)]
    process = stage(home, env)
    errors: list[str] = []
    producer = threading.Thread(target=publish_through, args=(bus, parts, errors))
    producer.start()
    while stored(home).height == 0 and producer.is_alive():
        time.sleep(0.1)
    before = stored(home).height
    assert run_script("down", backend).returncode == 0
    time.sleep(2)
    assert run_script("up", backend).returncode == 0
    producer.join(180)

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and stored(home).height < trades.height:
        time.sleep(0.2)
    assert process.poll() is None, f"the store stage died instead of waiting:\n{said(home)}"
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    bus.close()
    rows = stored(home)
    assert rows.height == trades.height
    assert rows.select(KEYS).is_duplicated().sum() == 0
    assert trades.join(rows, on=KEYS, how="anti").is_empty()
    assert 0 < before < trades.height, "the restart was not mid-stream"
    if backend == "redis":  # (Kafka's client holds sends through a short outage itself)
        assert errors, "the producer never met the outage"
