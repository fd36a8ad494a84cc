"""The market-store contract: every test runs unchanged on the embedded catalog and on the
real QuestDB server (same inputs, same frames out, same errors), so the backends cannot
drift. Expected values are computed from the input with plain Polars, not by a store."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cift.core.errors import NotFoundError, ValidationError
from cift.data.store.base import MarketStore
from cift.model import KEY_COLUMNS, SCHEMAS, DataKind, Timeframe
from cift.model.validation import Reason
from tests.budget import deep
from tests.data.marketdata import DAY_NS, T0, random_quotes, random_trades
from tests.data.store.conftest import StoreFactory

SYMBOLS = ["AAPL", "MSFT", "BTC/USD"]
KEYS = list(KEY_COLUMNS[DataKind.TRADES])
ONE_MINUTE = Timeframe.parse("1m")
TS = pl.col("ts").dt.epoch("ns")


def at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 10**9, tz=UTC).replace(microsecond=(ns % 10**9) // 1000)


def expected_bars(trades: pl.DataFrame, timeframe: Timeframe) -> pl.DataFrame:
    """Epoch-aligned OHLCV bars of the trades, by a plain group-by over truncated times."""
    return (
        trades.sort(KEYS)
        .with_columns(pl.col("ts").dt.truncate(timeframe.polars))
        .group_by("symbol", "ts", maintain_order=True)
        .agg(
            pl.col("price").first().alias("open"),
            pl.col("price").max().alias("high"),
            pl.col("price").min().alias("low"),
            pl.col("price").last().alias("close"),
            pl.col("size").sum().alias("volume"),
            ((pl.col("price") * pl.col("size")).sum() / pl.col("size").sum()).alias("vwap"),
            pl.len().cast(pl.Int64).alias("trades"),
        )
        .sort("symbol", "ts")
    )


# writes ------------------------------------------------------------------------------


def test_write_then_read_returns_sorted_rows_in_schema(store: MarketStore) -> None:
    trades = random_trades(5_000, SYMBOLS, span_ns=3 * DAY_NS).with_columns(
        pl.when(pl.col("side") > 0).then(pl.lit("XNAS")).alias("exchange"),
        pl.when(pl.col("side") < 0).then(pl.lit('@ F,"T" =x')).alias("conditions"),
    )
    result = store.write(DataKind.TRADES, trades)
    assert (result.rows_written, result.rows_existing) == (5_000, 0)
    assert result.report.rejected == {}
    assert result.symbols == sorted(SYMBOLS)
    stored = store.read(DataKind.TRADES).collect()
    assert stored.schema == SCHEMAS[DataKind.TRADES]
    assert_frame_equal(stored, trades.sort(KEYS))


def test_writing_the_same_rows_again_adds_nothing(store: MarketStore) -> None:
    trades = random_trades(3_000, SYMBOLS)
    store.write(DataKind.TRADES, trades)
    again = store.write(DataKind.TRADES, trades)
    assert (again.rows_written, again.rows_existing) == (0, 3_000)
    some_new = pl.concat([trades.head(100), random_trades(50, ["AAPL"], seed=9, start=T0 + DAY_NS)])
    mixed = store.write(DataKind.TRADES, some_new)
    assert (mixed.rows_written, mixed.rows_existing) == (50, 100)
    assert store.read(DataKind.TRADES).collect().height == 3_050


def test_late_and_out_of_order_rows_are_merged_in_order(store: MarketStore) -> None:
    trades = random_trades(4_000, SYMBOLS)
    early, late = trades.head(2_500), trades.tail(1_500)
    store.write(DataKind.TRADES, late)
    store.write(DataKind.TRADES, early)
    assert_frame_equal(store.read(DataKind.TRADES).collect(), trades.sort(KEYS))


@settings(
    max_examples=deep(8), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(st.integers(0, 300), max_size=4), repeat=st.lists(st.integers(0, 4), max_size=2)
)
def test_any_split_and_repeat_of_batches_stores_each_row_once(
    store_factory: StoreFactory, cuts: list[int], repeat: list[int]
) -> None:
    store = store_factory()
    trades = random_trades(300, SYMBOLS, seed=len(cuts))
    bounds = sorted({0, 300, *cuts})
    batches = [trades.slice(a, b - a) for a, b in itertools.pairwise(bounds)]
    for index in [*range(len(batches)), *[r % len(batches) for r in repeat]]:
        store.write(DataKind.TRADES, batches[index])
    assert_frame_equal(store.read(DataKind.TRADES).collect(), trades.sort(KEYS))


def test_rejected_rows_are_reported_not_stored(store: MarketStore) -> None:
    trades = random_trades(100, ["AAPL"])
    bad = trades.head(3).with_columns(pl.lit(-1.0).alias("price"), pl.lit("x").alias("trade_id"))
    result = store.write(DataKind.TRADES, pl.concat([trades, bad, trades.head(2)]))
    assert result.rows_written == 100
    assert result.report.rejected == {Reason.NON_POSITIVE_PRICE: 3, Reason.DUPLICATE_KEY: 2}
    assert store.read(DataKind.TRADES).collect().height == 100


def test_a_batch_with_nothing_valid_writes_nothing(store: MarketStore) -> None:
    bad = random_trades(5, ["AAPL"]).with_columns(pl.lit(0.0).alias("price"))
    result = store.write(DataKind.TRADES, bad)
    assert (result.rows_written, result.report.rejected) == (0, {Reason.NON_POSITIVE_PRICE: 5})
    assert store.coverage().is_empty()


def test_quotes_and_bars_keep_nulls_and_round_trip(store: MarketStore) -> None:
    quotes = random_quotes(500, SYMBOLS).with_columns(
        pl.when(pl.col("bid") > 100).then(pl.col("bid_size")).alias("bid_size")
    )
    store.write(DataKind.QUOTES, quotes)
    assert_frame_equal(store.read(DataKind.QUOTES).collect(), quotes.sort("symbol", "ts"))
    bars = expected_bars(random_trades(2_000, SYMBOLS), ONE_MINUTE).with_columns(
        pl.when(pl.col("trades") % 5 == 0).then(None).otherwise(pl.col("vwap")).alias("vwap")
    )
    store.write(DataKind.BARS, bars, timeframe=ONE_MINUTE)
    assert_frame_equal(store.read(DataKind.BARS, timeframe=ONE_MINUTE).collect(), bars)


# reads -------------------------------------------------------------------------------


def test_read_filters_symbols_range_and_columns(store: MarketStore) -> None:
    trades = random_trades(6_000, SYMBOLS, span_ns=2 * DAY_NS)
    store.write(DataKind.TRADES, trades)
    start, end = T0 + DAY_NS // 2 + 123_456_000, T0 + DAY_NS + 3_600 * 10**9
    expected = (
        trades.filter(pl.col("symbol").is_in(["MSFT", "BTC/USD"]) & (start <= TS) & (end > TS))
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


def test_start_is_inclusive_end_exclusive_and_times_keep_their_nanoseconds(
    store: MarketStore,
) -> None:
    times = [T0 + 999, T0 + 1_000, T0 + 1_999, T0 + 2_000]
    trades = random_trades(4, ["AAPL"]).with_columns(
        pl.Series("ts", times).cast(pl.Datetime("ns", "UTC"))
    )
    store.write(DataKind.TRADES, trades)
    got = store.read(DataKind.TRADES, start=at(T0 + 1_000), end=at(T0 + 2_000)).collect()
    assert got.get_column("ts").dt.epoch("ns").to_list() == [T0 + 1_000, T0 + 1_999]


def test_reads_are_lazy_and_empty_stores_read_empty_frames(store: MarketStore) -> None:
    frame = store.read(DataKind.QUOTES, symbols=["AAPL"])
    assert isinstance(frame, pl.LazyFrame)
    assert frame.collect().schema == SCHEMAS[DataKind.QUOTES]
    assert store.read(DataKind.TRADES, symbols=[]).collect().is_empty()
    assert store.coverage().is_empty()
    assert store.latest(DataKind.TRADES).is_empty()
    assert store.bars_from_trades(ONE_MINUTE).collect().schema == SCHEMAS[DataKind.BARS]
    assert store.trades_with_quotes().collect().is_empty()
    assert store.feature_sets().is_empty()


def test_a_write_is_visible_to_the_next_read(store: MarketStore) -> None:
    for n in range(1, 4):
        store.write(DataKind.TRADES, random_trades(10, ["AAPL"], seed=n, start=T0 + n * DAY_NS))
        assert store.read(DataKind.TRADES).collect().height == 10 * n
        assert store.latest(DataKind.TRADES).item(0, "ts") >= at(T0 + n * DAY_NS)


def test_naive_datetimes_and_bad_symbols_are_refused(store: MarketStore) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        store.read(DataKind.TRADES, start=datetime(2024, 1, 1)).collect()
    for bad in ["A'; DROP TABLE cift_trades; --", 'X"Y', "", "A\nB"]:
        with pytest.raises(ValidationError, match=r"(?i)symbol"):
            store.read(DataKind.TRADES, symbols=[bad]).collect()


# coverage and latest -----------------------------------------------------------------


def test_coverage_lists_every_kind_and_timeframe(store: MarketStore) -> None:
    trades = random_trades(3_000, SYMBOLS, span_ns=2 * DAY_NS)
    store.write(DataKind.TRADES, trades)
    store.write(DataKind.BARS, expected_bars(trades, ONE_MINUTE), timeframe=ONE_MINUTE)
    hourly = Timeframe.parse("1h")
    store.write(DataKind.BARS, expected_bars(trades, hourly).head(1), timeframe=hourly)
    coverage = store.coverage()
    expected = (
        trades.group_by("symbol")
        .agg(
            pl.col("ts").min().alias("first"),
            pl.col("ts").max().alias("last"),
            pl.len().cast(pl.Int64).alias("rows"),
        )
        .sort("symbol")
    )
    ticks = coverage.filter(pl.col("kind") == "trades").drop("kind", "timeframe")
    assert_frame_equal(ticks, expected, check_dtypes=False)
    assert coverage.select("kind", "timeframe").unique(maintain_order=True).rows() == [
        ("bars", "1h"),
        ("bars", "1m"),
        ("trades", None),
    ]
    assert store.coverage(DataKind.TRADES).height == len(SYMBOLS)


def test_latest_is_the_newest_row_and_the_last_trade_id_among_ties(store: MarketStore) -> None:
    trades = random_trades(500, ["AAPL", "MSFT"]).sort(KEYS)
    newest = trades.group_by("symbol").agg(pl.col("ts").max())
    tie = trades.join(newest, on=["symbol", "ts"]).with_columns(
        pl.lit("a-first").alias("trade_id"), pl.lit(1.0).alias("price")
    )
    store.write(DataKind.TRADES, pl.concat([tie, trades]))
    expected = trades.group_by("symbol", maintain_order=True).last().sort("symbol")
    assert_frame_equal(store.latest(DataKind.TRADES), expected)
    assert_frame_equal(store.latest(DataKind.TRADES, symbols=["MSFT"]), expected.tail(1))
    quotes = random_quotes(300, SYMBOLS)
    store.write(DataKind.QUOTES, quotes)
    newest_quotes = quotes.sort("symbol", "ts").group_by("symbol", maintain_order=True).last()
    assert_frame_equal(store.latest(DataKind.QUOTES), newest_quotes)


# aggregations ------------------------------------------------------------------------


@pytest.mark.parametrize("timeframe", ["1m", "5m", "1h", "7m"])
def test_bars_from_trades_match_a_plain_group_by(store: MarketStore, timeframe: str) -> None:
    trades = random_trades(4_000, SYMBOLS)
    store.write(DataKind.TRADES, trades)
    frame = Timeframe.parse(timeframe)
    got = store.bars_from_trades(frame).collect()
    assert got.schema == SCHEMAS[DataKind.BARS]
    assert_frame_equal(got, expected_bars(trades, frame), rel_tol=1e-12)
    window = store.bars_from_trades(
        frame, symbols=["AAPL"], start=at(T0 + 3_600 * 10**9), end=at(T0 + 7_200 * 10**9)
    ).collect()
    inside = trades.filter(
        (pl.col("symbol") == "AAPL") & (TS >= T0 + 3_600 * 10**9) & (TS < T0 + 7_200 * 10**9)
    )
    assert_frame_equal(window, expected_bars(inside, frame), rel_tol=1e-12)


def test_resampled_bars_equal_bars_made_from_the_trades(store: MarketStore) -> None:
    trades = random_trades(3_000, SYMBOLS)
    store.write(DataKind.TRADES, trades)
    store.write(DataKind.BARS, expected_bars(trades, ONE_MINUTE), timeframe=ONE_MINUTE)
    for target in ["5m", "1h", "7m"]:
        frame = Timeframe.parse(target)
        resampled = store.resample_bars(ONE_MINUTE, frame).collect()
        assert_frame_equal(resampled, expected_bars(trades, frame), rel_tol=1e-12)
    with pytest.raises(ValidationError, match="whole multiple"):
        store.resample_bars(Timeframe.parse("5m"), Timeframe.parse("7m"))


def test_bars_need_a_timeframe_and_timeframes_stay_apart(store: MarketStore) -> None:
    bars = expected_bars(random_trades(2_000, ["AAPL"]), ONE_MINUTE)
    with pytest.raises(ValidationError, match="timeframe"):
        store.write(DataKind.BARS, bars)
    with pytest.raises(ValidationError, match="no timeframe"):
        store.write(DataKind.TRADES, random_trades(5, ["AAPL"]), timeframe=ONE_MINUTE)
    store.write(DataKind.BARS, bars, timeframe=ONE_MINUTE)
    assert store.read(DataKind.BARS, timeframe=Timeframe.parse("5m")).collect().is_empty()


def test_trades_carry_the_prevailing_quote(store: MarketStore) -> None:
    trades = random_trades(2_000, SYMBOLS, span_ns=2 * DAY_NS)
    quotes = random_quotes(2_000, SYMBOLS)
    store.write(DataKind.TRADES, trades)
    store.write(DataKind.QUOTES, quotes)
    start = T0 + DAY_NS // 2
    expected = (
        trades.filter(start <= TS)
        .sort("ts")
        .join_asof(quotes.sort("ts"), on="ts", by="symbol", strategy="backward")
        .sort(KEYS)
    )
    got = store.trades_with_quotes(start=at(start)).collect()
    assert got.columns == [*SCHEMAS[DataKind.TRADES], "bid", "ask", "bid_size", "ask_size"]
    assert_frame_equal(got, expected)
    only = store.trades_with_quotes(symbols=["MSFT"], end=at(start)).collect()
    assert only.get_column("symbol").unique().to_list() == ["MSFT"]


def test_trades_without_quotes_get_null_quotes(store: MarketStore) -> None:
    store.write(DataKind.TRADES, random_trades(20, ["AAPL"]))
    joined = store.trades_with_quotes().collect()
    assert joined.select("bid", "ask", "bid_size", "ask_size").null_count().row(0) == (20,) * 4


# delete and compact ------------------------------------------------------------------


def test_delete_a_range_and_keep_the_rest(store: MarketStore) -> None:
    trades = random_trades(3_000, SYMBOLS, span_ns=2 * DAY_NS)
    store.write(DataKind.TRADES, trades)
    start, end = T0 + DAY_NS // 3, T0 + DAY_NS + DAY_NS // 3
    doomed = (pl.col("symbol") == "AAPL") & (start <= TS) & (end > TS)
    removed = store.delete(DataKind.TRADES, symbols=["AAPL"], start=at(start), end=at(end))
    assert removed == trades.filter(doomed).height
    assert_frame_equal(store.read(DataKind.TRADES).collect(), trades.filter(~doomed).sort(KEYS))
    assert store.delete(DataKind.TRADES, symbols=["AAPL"], start=at(start), end=at(end)) == 0
    assert store.delete(DataKind.TRADES) == trades.filter(~doomed).height
    assert store.read(DataKind.TRADES).collect().is_empty()


def test_compact_keeps_every_row(store: MarketStore) -> None:
    trades = random_trades(4_000, SYMBOLS)
    for batch in trades.sample(fraction=1.0, shuffle=True, seed=3).iter_slices(500):
        store.write(DataKind.TRADES, batch)
    result = store.compact(DataKind.TRADES)
    assert result.rows == 4_000
    assert result.files_after <= result.files_before
    assert_frame_equal(store.read(DataKind.TRADES).collect(), trades.sort(KEYS))


# feature values ----------------------------------------------------------------------


def feature_values() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "symbol": ["MSFT", "AAPL", "AAPL", "AAPL"],
            "ts": [T0, T0 + 60 * 10**9, T0, T0 + 120 * 10**9],
            "rsi_14": [40.0, None, 55.5, 61.25],
            "count": [7, 4, 3, None],
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


def test_feature_values_round_trip_and_are_written_once(store: MarketStore) -> None:
    values = feature_values()
    assert store.write_features("default-8f7641726a11", values) == 4
    assert store.write_features("default-8f7641726a11", values) == 0
    got = store.read_features("default-8f7641726a11").collect()
    assert_frame_equal(got, values.sort("symbol", "ts"), check_dtypes=False)
    aapl = store.read_features("default-8f7641726a11", symbols=["AAPL"], start=at(T0 + 1_000))
    assert aapl.collect().get_column("rsi_14").to_list() == [None, 61.25]
    listed = store.feature_sets()
    assert listed.select("set_id", "symbol", "rows").rows() == [
        ("default-8f7641726a11", "AAPL", 3),
        ("default-8f7641726a11", "MSFT", 1),
    ]


def test_unknown_feature_sets_and_bad_values_are_refused(store: MarketStore) -> None:
    with pytest.raises(NotFoundError, match="cift features ls"):
        store.read_features("nope").collect()
    with pytest.raises(ValidationError, match="symbol"):
        store.write_features("s", feature_values().drop("symbol"))
    assert store.write_features("s", feature_values().clear()) == 0
