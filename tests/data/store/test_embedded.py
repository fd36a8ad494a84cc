"""The embedded store: idempotent writes, ordered reads, coverage, delete, compact, vacuum."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cift.core.errors import ValidationError
from cift.data.store.embedded import EmbeddedStore
from cift.data.store.embedded.files import TMP_DIR
from cift.model import KEY_COLUMNS, SCHEMAS, DataKind, Timeframe
from cift.model.validation import Reason
from tests.budget import deep
from tests.data.marketdata import DAY_NS, T0, random_quotes, random_trades

SYMBOLS = ["AAPL", "MSFT", "BTC/USD"]
KEYS = list(KEY_COLUMNS[DataKind.TRADES])


def at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 10**9, tz=UTC).replace(microsecond=(ns % 10**9) // 1000)


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "market")


def test_write_then_read_returns_sorted_rows_in_schema(store: EmbeddedStore) -> None:
    trades = random_trades(5_000, SYMBOLS, span_ns=3 * DAY_NS)
    result = store.write(DataKind.TRADES, trades)
    assert result.rows_written == 5_000
    assert result.report.rejected == {}
    assert result.partitions == len(SYMBOLS) * 4  # 72 hours from 09:00 touch four UTC days
    stored = store.read(DataKind.TRADES).collect()
    assert stored.schema == SCHEMAS[DataKind.TRADES]
    assert_frame_equal(stored, trades.sort(KEYS))


def test_writing_the_same_rows_again_adds_nothing(store: EmbeddedStore) -> None:
    trades = random_trades(3_000, SYMBOLS)
    store.write(DataKind.TRADES, trades)
    again = store.write(DataKind.TRADES, trades)
    assert again.rows_written == 0
    assert again.rows_existing == 3_000
    assert store.read(DataKind.TRADES).collect().height == 3_000


def test_late_and_out_of_order_rows_are_merged_in_order(store: EmbeddedStore) -> None:
    trades = random_trades(4_000, SYMBOLS)
    early, late = trades.head(2_500), trades.tail(1_500)
    store.write(DataKind.TRADES, late)
    store.write(DataKind.TRADES, early)
    assert_frame_equal(store.read(DataKind.TRADES).collect(), trades.sort(KEYS))


@settings(
    max_examples=deep(15),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    cuts=st.lists(st.integers(0, 600), max_size=5), repeat=st.lists(st.integers(0, 5), max_size=3)
)
def test_any_split_and_repeat_of_batches_stores_each_row_once(
    tmp_path_factory: pytest.TempPathFactory, cuts: list[int], repeat: list[int]
) -> None:
    store = EmbeddedStore(tmp_path_factory.mktemp("split"))
    trades = random_trades(600, SYMBOLS, seed=len(cuts))
    bounds = sorted({0, 600, *cuts})
    batches = [trades.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    for index in [*range(len(batches)), *[r % len(batches) for r in repeat]]:
        store.write(DataKind.TRADES, batches[index])
    assert_frame_equal(store.read(DataKind.TRADES).collect(), trades.sort(KEYS))


def test_rejected_rows_are_reported_not_stored(store: EmbeddedStore) -> None:
    trades = random_trades(100, ["AAPL"])
    bad = trades.head(3).with_columns(pl.lit(-1.0).alias("price"), pl.lit("x").alias("trade_id"))
    result = store.write(DataKind.TRADES, pl.concat([trades, bad, trades.head(2)]))
    assert result.rows_written == 100
    assert result.report.rejected == {Reason.NON_POSITIVE_PRICE: 3, Reason.DUPLICATE_KEY: 2}


def test_read_filters_symbols_range_and_columns(store: EmbeddedStore) -> None:
    trades = random_trades(6_000, SYMBOLS, span_ns=2 * DAY_NS)
    store.write(DataKind.TRADES, trades)
    start, end = T0 + DAY_NS // 2, T0 + DAY_NS + 3_600 * 10**9
    ts = pl.col("ts").dt.epoch("ns")
    expected = (
        trades.filter(pl.col("symbol").is_in(["MSFT", "BTC/USD"]) & (ts >= start) & (ts < end))
        .sort(KEYS)
        .select("symbol", "ts", "price")
    )
    got = store.read(
        DataKind.TRADES,
        symbols=["MSFT", "BTC/USD"],
        start=at(start),
        end=at(end),
        columns=["symbol", "ts", "price"],
    ).collect()
    assert_frame_equal(got, expected)
    with pytest.raises(ValidationError, match="Unknown trades column"):
        store.read(DataKind.TRADES, columns=["bid"])


def test_empty_store_reads_empty_frames(store: EmbeddedStore) -> None:
    assert store.read(DataKind.QUOTES).collect().schema == SCHEMAS[DataKind.QUOTES]
    assert store.coverage().is_empty()
    assert store.latest(DataKind.TRADES).is_empty()


def test_bars_need_a_timeframe_and_keep_timeframes_apart(store: EmbeddedStore) -> None:
    trades = random_trades(2_000, ["AAPL"])
    one_minute = store.bars_from_trades(Timeframe.parse("1m"))
    assert one_minute.collect().is_empty()
    store.write(DataKind.TRADES, trades)
    bars_1m = store.bars_from_trades(Timeframe.parse("1m")).collect()
    with pytest.raises(ValidationError, match="timeframe"):
        store.write(DataKind.BARS, bars_1m)
    store.write(DataKind.BARS, bars_1m, timeframe=Timeframe.parse("1m"))
    assert store.read(DataKind.BARS, timeframe=Timeframe.parse("5m")).collect().is_empty()
    assert_frame_equal(
        store.read(DataKind.BARS, timeframe=Timeframe.parse("1m")).collect(), bars_1m
    )
    resampled = store.resample_bars(Timeframe.parse("1m"), Timeframe.parse("1h")).collect()
    assert_frame_equal(
        resampled, store.bars_from_trades(Timeframe.parse("1h")).collect(), rel_tol=1e-12
    )


def test_coverage_and_latest(store: EmbeddedStore) -> None:
    trades = random_trades(3_000, SYMBOLS, span_ns=2 * DAY_NS)
    store.write(DataKind.TRADES, trades)
    coverage = store.coverage(DataKind.TRADES)
    expected = (
        trades.group_by("symbol")
        .agg(
            pl.col("ts").min().alias("first"),
            pl.col("ts").max().alias("last"),
            pl.len().alias("rows"),
        )
        .sort("symbol")
    )
    assert coverage.get_column("symbol").to_list() == expected.get_column("symbol").to_list()
    assert coverage.get_column("rows").to_list() == expected.get_column("rows").to_list()
    assert coverage.get_column("first").to_list() == expected.get_column("first").to_list()
    assert coverage.get_column("last").to_list() == expected.get_column("last").to_list()
    latest = store.latest(DataKind.TRADES, symbols=["AAPL", "MSFT"])
    newest = trades.sort(KEYS).group_by("symbol", maintain_order=True).last().sort("symbol")
    assert_frame_equal(latest, newest.filter(pl.col("symbol").is_in(["AAPL", "MSFT"])))


def test_trades_with_prevailing_quotes(store: EmbeddedStore) -> None:
    store.write(DataKind.TRADES, random_trades(2_000, SYMBOLS))
    store.write(DataKind.QUOTES, random_quotes(2_000, SYMBOLS))
    joined = store.trades_with_quotes(start=at(T0 + DAY_NS // 2)).collect()
    quotes = store.read(DataKind.QUOTES).collect()
    row = joined.filter(pl.col("bid").is_not_null()).row(0, named=True)
    prevailing = quotes.filter(
        (pl.col("symbol") == row["symbol"]) & (pl.col("ts") <= row["ts"])
    ).tail(1)
    assert row["bid"] == prevailing.item(0, "bid")
    assert row["ask"] == prevailing.item(0, "ask")


def test_delete_a_range_and_keep_the_rest(store: EmbeddedStore) -> None:
    trades = random_trades(3_000, SYMBOLS, span_ns=2 * DAY_NS)
    store.write(DataKind.TRADES, trades)
    start, end = T0 + DAY_NS // 3, T0 + DAY_NS + DAY_NS // 3
    ts = pl.col("ts").dt.epoch("ns")
    doomed = (pl.col("symbol") == "AAPL") & (ts >= start) & (ts < end)
    removed = store.delete(DataKind.TRADES, symbols=["AAPL"], start=at(start), end=at(end))
    assert removed == trades.filter(doomed).height
    assert_frame_equal(store.read(DataKind.TRADES).collect(), trades.filter(~doomed).sort(KEYS))


def test_compact_merges_files_without_changing_rows(store: EmbeddedStore) -> None:
    trades = random_trades(4_000, SYMBOLS)
    for batch in trades.iter_slices(500):
        store.write(DataKind.TRADES, batch)
    before = store.read(DataKind.TRADES).collect()
    files_before = len(list((store.root / "data").rglob("*.parquet")))
    result = store.compact(DataKind.TRADES)
    assert result.files_before == files_before
    assert result.files_after == len(SYMBOLS) * 2  # the trades span two UTC days
    assert result.rows == 4_000
    assert_frame_equal(store.read(DataKind.TRADES).collect(), before)
    assert store.compact().partitions == 0


def test_vacuum_removes_files_no_write_committed(store: EmbeddedStore) -> None:
    store.write(DataKind.TRADES, random_trades(100, ["AAPL"]))
    orphan_dir = store.root / "data" / "trades" / "AAPL" / "2024-01-02"
    (orphan_dir / "dead-writer.parquet").write_bytes(b"PAR1 partial")
    (store.root / TMP_DIR / "half.parquet").write_bytes(b"PAR1")
    assert store.vacuum() == 2
    assert store.read(DataKind.TRADES).collect().height == 100


def test_naive_datetimes_are_refused(store: EmbeddedStore) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        store.read(DataKind.TRADES, start=datetime(2024, 1, 1))
