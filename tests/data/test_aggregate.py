"""Bars, resampling and the prevailing quote agree with DuckDB computing the same thing."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cift.core.errors import ValidationError
from cift.data.aggregate import resample_bars, trades_to_bars, with_prevailing_quote
from cift.model import BAR_SCHEMA, Timeframe
from tests.data.marketdata import random_quotes, random_trades

SYMBOLS = ["AAPL", "MSFT", "BTC/USD"]


@pytest.fixture(scope="module")
def trades() -> pl.DataFrame:
    return random_trades(20_000, SYMBOLS).sort("symbol", "ts", "trade_id")


def duckdb_bars(trades: pl.DataFrame, seconds: int) -> pl.DataFrame:
    """The same aggregation written independently in SQL."""
    rows = trades.with_row_index("seq").with_columns(pl.col("ts").dt.epoch("ns").alias("t"))
    sql = f"""
        SELECT symbol, (t - t % {seconds * 10**9}) AS ts,
               arg_min(price, seq) AS open, max(price) AS high, min(price) AS low,
               arg_max(price, seq) AS close, sum(size) AS volume,
               sum(price * size) / sum(size) AS vwap, count(*) AS trades
        FROM rows GROUP BY ALL ORDER BY symbol, ts
    """
    connection = duckdb.connect()
    connection.register("rows", rows)
    result = connection.sql(sql).pl()
    return result.with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC"))).cast(BAR_SCHEMA)


@pytest.mark.parametrize("timeframe", ["1m", "5m", "1h", "1d"])
def test_bars_from_trades_match_sql(trades: pl.DataFrame, timeframe: str) -> None:
    tf = Timeframe.parse(timeframe)
    ours = trades_to_bars(trades.lazy(), tf).collect()
    assert ours.schema == BAR_SCHEMA
    assert_frame_equal(ours, duckdb_bars(trades, tf.nanos // 10**9), rel_tol=1e-12)


def test_resampled_bars_equal_bars_built_from_trades_directly(trades: pl.DataFrame) -> None:
    one_minute = trades_to_bars(trades.lazy(), Timeframe.parse("1m"))
    resampled = resample_bars(one_minute, Timeframe.parse("1m"), Timeframe.parse("15m")).collect()
    direct = trades_to_bars(trades.lazy(), Timeframe.parse("15m")).collect()
    assert_frame_equal(resampled, direct, rel_tol=1e-12)


def test_resampling_to_a_non_multiple_is_refused(trades: pl.DataFrame) -> None:
    bars = trades_to_bars(trades.lazy(), Timeframe.parse("2m"))
    with pytest.raises(ValidationError, match="whole multiple"):
        resample_bars(bars, Timeframe.parse("2m"), Timeframe.parse("5m"))


def test_prevailing_quote_matches_duckdb_asof_join(trades: pl.DataFrame) -> None:
    quotes = random_quotes(5_000, SYMBOLS).sort("symbol", "ts")
    ours = with_prevailing_quote(trades.lazy(), quotes.lazy()).collect()
    expected = (
        duckdb.sql(
            """
        SELECT t.*, q.bid, q.ask, q.bid_size, q.ask_size
        FROM trades t ASOF LEFT JOIN quotes q ON t.symbol = q.symbol AND t.ts >= q.ts
        ORDER BY t.symbol, t.ts, t.trade_id
        """
        )
        .pl()
        .with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    )
    assert ours.height == trades.height
    assert ours.get_column("bid").null_count() > 0  # trades before the first quote
    assert_frame_equal(ours, expected, check_dtypes=False)
