"""Live bars and live features equal their batch counterparts over the same rows, however
the rows are split into batches; a restart neither loses nor repeats nor resets; late
trades are counted, not folded into a bar already made."""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cift.data.aggregate import trades_to_bars
from cift.data.bus.memory import MemoryBus
from cift.data.store.embedded import EmbeddedStore
from cift.data.stream import LiveBars, bars_stage
from cift.data.stream.board import LocalBoard
from cift.features.live.stage import features_stage
from cift.features.pipeline import compute_set, default_set
from cift.model import TS_DTYPE, DataKind, Timeframe
from cift.model.schemas import conform
from tests.budget import deep
from tests.data.marketdata import random_trades
from tests.data.stream.running import run_stage, taken

MINUTE = Timeframe.parse("1m")
TRADES = random_trades(4_000, ["AAA", "BBB", "CCC"], span_ns=3 * 3_600 * 10**9).sort("ts")
BATCH_BARS = trades_to_bars(TRADES.sort("symbol", "ts", "trade_id").lazy(), MINUTE).collect()


def same_bars(live: pl.DataFrame, batch: pl.DataFrame) -> None:
    """Equal bars: exactly, but for the last bit of the VWAP (a sum's order)."""
    live, batch = live.sort("symbol", "ts"), batch.sort("symbol", "ts")
    assert_frame_equal(live.drop("vwap"), batch.drop("vwap"), check_exact=True)
    assert_frame_equal(live, batch, check_exact=False, rel_tol=1e-12)


def splits(frame: pl.DataFrame, cuts: list[int]) -> list[pl.DataFrame]:
    edges = [0, *sorted({c % max(frame.height, 1) for c in cuts}), frame.height]
    return [frame.slice(a, b - a) for a, b in itertools.pairwise(edges) if b > a]


@settings(max_examples=deep(25), deadline=None)
@given(cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_live_bars_equal_batch_bars_however_split(cuts: list[int]) -> None:
    live = LiveBars(MINUTE)
    made = [live.add(part) for part in splits(TRADES, cuts)] + [live.flush()]
    same_bars(pl.concat(made), BATCH_BARS)
    assert live.late_trades == 0


def trades_at(*seconds: int) -> pl.DataFrame:
    """AAA trades at 10:00 + ``seconds`` on 2024-01-02."""
    base = 1_704_189_600 * 10**9
    frame = pl.DataFrame(
        {
            "symbol": ["AAA"] * len(seconds),
            "ts": [base + s * 10**9 for s in seconds],
            "price": [100.0 + i for i in range(len(seconds))],
            "size": [10.0] * len(seconds),
            "trade_id": [f"t{s}" for s in seconds],
        }
    )
    return conform(frame.with_columns(pl.col("ts").cast(TS_DTYPE)), DataKind.TRADES).collect()


def test_a_bar_is_made_once_event_time_passes_its_end_plus_lateness() -> None:
    live = LiveBars(MINUTE, lateness_ns=5 * 10**9)
    assert live.add(trades_at(10, 50, 63)).is_empty()  # 10:01:03 - 5 s is inside 10:00
    assert live.oldest_open_ns is not None
    made = live.add(trades_at(66))  # 10:01:06 - 5 s is past 10:01:00
    assert made.select("open", "close", "volume", "trades").row(0) == (100.0, 101.0, 20.0, 2)
    assert live.add(trades_at(70)).is_empty()
    assert live.flush().get_column("trades").to_list() == [3]


@settings(max_examples=deep(15), deadline=None)
@given(cuts=st.lists(st.integers(0, 10_000), max_size=8), first=st.sampled_from(["AAA", "CCC"]))
def test_symbols_read_at_their_own_pace_still_make_batch_bars(cuts: list[int], first: str) -> None:
    # One symbol's trades all come before the others' (a Kafka partition read ahead).
    skewed = pl.concat(
        [TRADES.filter(pl.col("symbol") == first), TRADES.filter(pl.col("symbol") != first)]
    )
    live = LiveBars(MINUTE)
    made = [live.add(part) for part in splits(skewed, cuts)] + [live.flush()]
    same_bars(pl.concat(made), BATCH_BARS)
    assert live.late_trades == 0


def test_a_quiet_symbols_bar_is_made_once_others_pass_it() -> None:
    live = LiveBars(MINUTE, idle_seconds=0.0)
    assert live.add(trades_at(10)).is_empty()  # AAA at 10:00:10, nothing after it
    other = trades_at(200).with_columns(pl.lit("BBB").alias("symbol"))  # BBB at 10:03:20
    made = live.add(other)
    assert made.select("symbol", "trades").rows() == [("AAA", 1)]


def test_late_trades_are_counted_not_folded_in() -> None:
    live = LiveBars(MINUTE)
    made = live.add(TRADES)
    late = TRADES.head(5).with_columns(pl.col("trade_id") + "-late")
    assert live.add(late).is_empty()
    assert live.late_trades == 5
    assert made.height + live.flush().height == BATCH_BARS.height


@settings(max_examples=deep(20), deadline=None)
@given(cuts=st.lists(st.integers(0, 10_000), max_size=12))
def test_live_features_equal_batch_features_however_split(cuts: list[int]) -> None:
    feature_set = default_set(MINUTE)
    live = feature_set.live()
    bars = BATCH_BARS.sort("ts")
    parts = [live.update_frame(part) for part in splits(bars, cuts)]
    got = pl.concat(parts).select("symbol", "ts", *feature_set.columns)
    want = compute_set(bars, feature_set)
    assert_frame_equal(got.sort("symbol", "ts"), want.sort("symbol", "ts"), check_exact=True)


def test_bars_and_features_stages_restarted_midway_equal_batch(tmp_path: Path) -> None:
    bus, store = MemoryBus(), EmbeddedStore(tmp_path / "market")
    board = LocalBoard(tmp_path)
    feature_set = default_set(MINUTE)
    half = TRADES.height // 2
    for part in splits(TRADES.head(half), list(range(0, half, 300))):
        bus.publish("trades", part)
    run_stage(bars_stage, bus, store, done=taken(half), timeframe=MINUTE)  # Ctrl-C: no flush
    run_stage(features_stage, bus, store, board, feature_set, done=taken(1))
    for part in splits(TRADES.tail(TRADES.height - half), list(range(0, half, 300))):
        bus.publish("trades", part)
    bars = run_stage(bars_stage, bus, store, done=taken(1), timeframe=MINUTE, final=True)
    assert bars.lag == 0
    run_stage(features_stage, bus, store, board, feature_set, done=taken(1))

    same_bars(store.read(DataKind.BARS, timeframe=MINUTE).collect(), BATCH_BARS)
    stored = store.read_features(feature_set.set_id).collect()
    want = compute_set(store.read(DataKind.BARS, timeframe=MINUTE).collect(), feature_set)
    assert_frame_equal(stored, want, check_exact=True)
