"""``cift stream store`` killed at random moments while trades flow through the real
Kafka and Redis: after a last restart the store holds exactly the trades published,
0 lost and 0 duplicated, by count and by key."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import polars as pl
import pytest

from cift.data.bus import EventBus
from cift.data.bus.kafka import KafkaBus
from cift.data.bus.redis import RedisBus
from cift.data.store.embedded import EmbeddedStore
from cift.data.stream.board import Board
from cift.model import DataKind
from tests.budget import deep
from tests.data.marketdata import random_trades
from tests.fresh import Reap
from tests.servers import Servers
from tests.serving import environment as _environment
from tests.serving import stream_board

pytestmark = pytest.mark.slow

BATCHES, ROWS, KILLS = deep(60), 250, deep(3)  # make test-deep: 10 times the stream and kills
KEYS = ["symbol", "ts", "trade_id"]


def stage(home: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``cift stream store`` in its own process; what it says goes to :func:`said`."""
    home.mkdir(parents=True, exist_ok=True)
    with (home / "stage.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "cift", "stream", "store", "--kind", "trades"],
            env=_environment(home, **env),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def running(process: subprocess.Popen[bytes], board: Board) -> bool:
    """Whether ``process`` has posted its status to the stream board: it is in its loop,
    past setting its signal handlers."""
    return board.statuses().get("store-trades", {}).get("pid") == process.pid


def said(home: Path) -> str:
    """The last lines the store stages of ``home`` wrote to stderr."""
    return "\n".join((home / "stage.log").read_text(errors="replace").splitlines()[-15:])


def stored(home: Path) -> pl.DataFrame:
    return EmbeddedStore(home / "market").read(DataKind.TRADES).collect()


def bus_and_environment(
    backend: str, servers: Servers, request: pytest.FixtureRequest
) -> tuple[EventBus, dict[str, str]]:
    """A bus of ``backend`` on the real server under a fresh prefix, and the environment
    that points a ``cift stream`` process at the same topics."""
    prefix = f"k{uuid.uuid4().hex[:10]}"
    bus: EventBus
    if backend == "kafka":
        address = servers.address("kafka", "CIFT_TEST_KAFKA_BOOTSTRAP_SERVERS")
        bus = KafkaBus(address, f"{prefix}.")
        env = {"CIFT_BUS": "kafka", "CIFT_KAFKA_BOOTSTRAP_SERVERS": address}
    else:
        url = request.getfixturevalue("redis_url")
        bus = RedisBus(url, f"{prefix}:")
        env = {"CIFT_BUS": "redis", "CIFT_REDIS_URL": url}
    return bus, env | {"CIFT_BUS_PREFIX": f"{prefix}."}


@pytest.mark.parametrize("backend", ["kafka", "redis"])
def test_a_store_stage_killed_at_random_stores_each_trade_once(
    backend: str,
    servers: Servers,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    reap: Reap,
) -> None:
    bus, env = bus_and_environment(backend, servers, request)
    home = tmp_path / "cift-home"
    trades = random_trades(BATCHES * ROWS, ["AAA", "BBB", "CCC"], seed=7)
    chaos = random.Random(11)

    def produce() -> None:
        for i in range(BATCHES):
            bus.publish("trades", trades.slice(i * ROWS, ROWS))
            time.sleep(0.25)

    producer = threading.Thread(target=produce)
    producer.start()
    process = reap(stage(home, env))
    for _ in range(KILLS):
        # Kill mid-stream: once this process has stored something, at a random instant.
        before = stored(home).height
        while stored(home).height == before and producer.is_alive():
            time.sleep(0.05)
        time.sleep(chaos.uniform(0, 0.5))
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process = reap(stage(home, env))
    producer.join()

    board, deadline = stream_board(home, env), time.monotonic() + 120
    while time.monotonic() < deadline:
        if running(process, board) and stored(home).height >= trades.height:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0, said(home)
    bus.close()

    rows = stored(home)
    assert rows.height == trades.height  # nothing lost, nothing twice
    assert rows.select(KEYS).is_duplicated().sum() == 0
    assert rows.join(trades, on=KEYS, how="anti").is_empty()
    assert trades.join(rows, on=KEYS, how="anti").is_empty()
