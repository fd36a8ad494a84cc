"""The live stages as separate processes over the real Kafka and Redis Streams into
the real QuestDB: the store ends with the simulator's own trades for the time streamed,
live bars equal to the batch aggregation of those trades, and live features equal to
the batch features of those bars."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cift.core.timeutil import from_ns
from cift.data.providers.synthetic import SyntheticProvider
from cift.data.store.questdb.store import QuestDBStore
from cift.features.pipeline import compute_set, default_set
from cift.model import DataKind, Timeframe
from tests.data.stream.test_bars_features import same_bars
from tests.servers import Servers
from tests.serving import environment as _environment
from tests.serving import stream_board

pytestmark = pytest.mark.slow

SYMBOLS = "AAA,BBB,CCC"
OPEN_NS = 1_709_649_000 * 10**9  # 2024-03-05 14:30 UTC, the session's open
MINUTE = Timeframe.parse("1m")


class Stages:
    """``cift stream`` processes sharing one environment."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home, self.env = home, _environment(home, **env)
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.board = stream_board(home, env)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.home.parent / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "cift", "stream", *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.running[name] = process
        return process

    def status(self) -> dict[str, dict[str, object]]:
        """The stages' reports, read by ``cift stream status`` as a user would."""
        out = subprocess.run(
            [sys.executable, "-m", "cift", "stream", "status", "--json"],
            env=self.env,
            capture_output=True,
            check=True,
        ).stdout
        return json.loads(out)  # type: ignore[no-any-return]

    def wait(
        self, check: Callable[[dict[str, dict[str, object]]], bool], seconds: float = 90
    ) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check(self.board.statuses()):  # the same reports, read in this process
                return
            time.sleep(0.25)
        logs = {
            p.name: p.read_text(errors="replace")[-2000:] for p in self.home.parent.glob("*.log")
        }
        raise AssertionError(f"The stages did not catch up: {self.status()} {logs}")

    def kill_all(self) -> None:
        for process in self.running.values():
            process.kill()
            process.wait(10)

    def stop(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, (self.home.parent / f"{name}.log").read_text()


@pytest.mark.parametrize("backend", ["kafka", "redis"])
def test_separate_stages_over_a_real_bus_into_questdb_equal_batch(
    backend: str,
    servers: Servers,
    tmp_path: Path,
    questdb_factory: Callable[[], QuestDBStore],
    questdb_endpoints: tuple[str, str],
    request: pytest.FixtureRequest,
) -> None:
    store = questdb_factory()
    pg_url, ilp_conf = questdb_endpoints
    env = {
        "CIFT_BUS": backend,
        "CIFT_BUS_PREFIX": f"p{uuid.uuid4().hex[:10]}.",
        "CIFT_MARKET_STORE": "questdb",
        "CIFT_QUESTDB_PG_URL": pg_url,
        "CIFT_QUESTDB_ILP_CONF": ilp_conf,
        "CIFT_QUESTDB_TABLE_PREFIX": store.names.prefix,
    }
    if backend == "kafka":
        env["CIFT_KAFKA_BOOTSTRAP_SERVERS"] = servers.address(
            "kafka", "CIFT_TEST_KAFKA_BOOTSTRAP_SERVERS"
        )
    else:
        env["CIFT_REDIS_URL"] = request.getfixturevalue("redis_url")
    stages = Stages(tmp_path / "home", env)
    request.addfinalizer(stages.kill_all)
    stages.start("store", "store", "--kind", "trades")
    stages.start("bars", "bars", "--flush-on-stop")
    stages.start("features", "features", "--set", "default")
    # (New groups read from the oldest batch, so the consumers need not have joined yet.)
    ingest = stages.start(
        "ingest",
        "ingest",
        "--provider",
        "synthetic",
        "--symbols",
        SYMBOLS,
        "--speed",
        "900",
        "--start",
        "2024-03-05T14:30:00Z",
        "--duration",
        "4s",
    )
    assert ingest.wait(60) == 0
    stages.running.pop("ingest")
    published = int(stages.status()["ingest"]["rows_out"])  # type: ignore[call-overload]
    assert published > 1_000
    stages.wait(
        lambda s: (
            s.get("store-trades", {}).get("rows_out") == published
            and s.get("bars", {}).get("rows_in") == published
        )
    )
    stages.stop("bars")  # makes the bars of the last open windows
    made = int(stages.status()["bars"]["rows_out"])  # type: ignore[call-overload]
    stages.wait(lambda s: s.get("features", {}).get("rows_in") == made)
    stages.stop("features")
    stages.stop("store")

    trades = store.read(DataKind.TRADES).collect()
    assert trades.height == published
    last = trades.get_column("ts").max()
    simulated = pl.concat(
        list(SyntheticProvider().trades(SYMBOLS.split(","), from_ns(OPEN_NS), last))
    )  # type: ignore[arg-type]
    assert_frame_equal(
        trades.filter(pl.col("ts") < last),
        simulated.sort("symbol", "ts", "trade_id"),
        check_exact=True,
    )
    bars = store.read(DataKind.BARS, timeframe=MINUTE).collect()
    assert bars.height == made
    same_bars(bars, store.bars_from_trades(MINUTE).collect())
    feature_set = default_set(MINUTE)
    values = store.read_features(feature_set.set_id).collect()
    assert_frame_equal(values, compute_set(bars, feature_set), check_exact=False, rel_tol=1e-12)
