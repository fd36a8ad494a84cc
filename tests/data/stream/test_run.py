"""``cift stream run`` on the embedded defaults: the streamed trades are the simulator's
own for the time streamed, the live bars equal the batch aggregation of those trades,
the live features equal the batch features of those bars, and the stages report."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from cift.cli.app import app
from cift.cli.console import console
from cift.core.timeutil import from_ns
from cift.data.providers.synthetic import SyntheticProvider
from cift.data.store.embedded import EmbeddedStore
from cift.features.compiling import sample
from cift.features.pipeline import compute_set, default_set
from cift.model import DataKind, Timeframe
from tests.data.stream.test_bars_features import same_bars

SYMBOLS = ["AAA", "BBB", "CCC"]
MINUTE = Timeframe.parse("1m")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CIFT_HOME", str(tmp_path))
    return tmp_path


def test_stream_run_stores_trades_bars_and_features_equal_to_batch(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compute_set(sample(), default_set(MINUTE))  # compiled before the clock starts (see below)
    runner = CliRunner()
    rule = ["alerts", "add", "AAA anywhere", "--symbol", SYMBOLS[0], "--below", "1e9",
            "--cooldown", "0"]  # fmt: skip
    assert runner.invoke(app, rule).exit_code == 0  # checked as the stream runs
    answer = runner.invoke(
        app,
        [
            "stream",
            "run",
            "--provider",
            "synthetic",
            "--symbols",
            ",".join(SYMBOLS),
            "--duration",
            "6s",
            "--speed",
            "500",
            "--start",
            "2024-03-05T14:30:00Z",
        ],
    )
    assert answer.exit_code == 0, answer.output
    store = EmbeddedStore(home / "market")
    trades = store.read(DataKind.TRADES).collect()
    assert set(trades.get_column("symbol")) == set(SYMBOLS)
    last = trades.get_column("ts").max()
    simulated = pl.concat(
        list(SyntheticProvider().trades(SYMBOLS, from_ns(1_709_649_000 * 10**9), last))  # type: ignore[arg-type]
    )
    played = trades.filter(pl.col("ts") < last)
    assert_frame_equal(played, simulated.sort("symbol", "ts", "trade_id"), check_exact=True)

    bars = store.read(DataKind.BARS, timeframe=MINUTE).collect()
    assert bars.height >= 3 * 20  # 6 s at 500x is over 20 simulated minutes
    same_bars(bars, store.bars_from_trades(MINUTE).collect())
    feature_set = default_set(MINUTE)
    values = store.read_features(feature_set.set_id).collect()
    assert_frame_equal(values, compute_set(bars, feature_set), check_exact=True)

    monkeypatch.setattr(console, "width", 200)  # the ids in full
    (checked,) = json.loads(runner.invoke(app, ["alerts", "ls", "--json"]).stdout)
    # once per batch of closed bars with a newer close: with the kernels still to compile
    # (a new cache), the first batch would wait seconds and hold most of the bars
    assert checked["fired"] >= 3
    listed = runner.invoke(app, ["data", "ls"])
    assert "Stored feature values" in listed.output
    assert feature_set.set_id in listed.output
    status = json.loads(runner.invoke(app, ["stream", "status", "--json"]).output)
    assert {"ingest", "store-trades", "bars", "features"} <= set(status)
    assert status["store-trades"]["rows_out"] == trades.height
