"""Validation counts and rejects every bad row by reason and keeps the first of each key."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cift.core.errors import ValidationError
from cift.model import KEY_COLUMNS, SCHEMAS, DataKind, Timeframe
from cift.model.validation import Reason, validate
from tests.budget import deep

T0 = 1_704_186_000_000_000_000  # 2024-01-02 09:00 UTC


def trades(**columns: list[object]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, list[object]] = {
        "symbol": ["AAPL"] * n,
        "ts": [T0 + i for i in range(n)],
        "price": [100.0] * n,
        "size": [10.0] * n,
        "side": [1] * n,
        "trade_id": [str(i) for i in range(n)],
    }
    base.update(columns)
    return pl.DataFrame(base).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


@pytest.mark.parametrize(
    ("column", "values", "reason"),
    [
        ("price", [100.0, float("nan"), 101.0], Reason.NAN_PRICE),
        ("price", [100.0, 0.0, 101.0], Reason.NON_POSITIVE_PRICE),
        ("price", [100.0, -3.0, 101.0], Reason.NON_POSITIVE_PRICE),
        ("price", [100.0, None, 101.0], Reason.MISSING_VALUE),
        ("size", [5.0, -1.0, 5.0], Reason.NEGATIVE_SIZE),
        ("side", [1, 2, -1], Reason.INVALID_SIDE),
        ("trade_id", ["a", None, "c"], Reason.MISSING_VALUE),
    ],
)
def test_each_bad_trade_is_rejected_with_its_reason(
    column: str, values: list[object], reason: Reason
) -> None:
    accepted, report = validate(trades(**{column: values}), DataKind.TRADES)
    assert accepted.height == 2
    assert report.rejected == {reason: 1}
    assert report.received == 3
    assert report.samples is not None
    assert report.samples.height == 1


def test_crossed_quotes_and_inconsistent_bars_are_rejected() -> None:
    quotes = pl.DataFrame(
        {
            "symbol": ["X", "X"],
            "ts": [T0, T0 + 1],
            "bid": [10.0, 10.2],
            "ask": [10.1, 10.1],
            "bid_size": [1.0, 1.0],
            "ask_size": [1.0, 1.0],
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    accepted, report = validate(quotes, DataKind.QUOTES)
    assert accepted.height == 1
    assert report.rejected == {Reason.CROSSED_QUOTE: 1}

    bars = pl.DataFrame(
        {
            "symbol": ["X"] * 3,
            "ts": [T0, T0 + 60_000_000_000, T0 + 120_000_000_000],
            "open": [10.0, 10.0, 9.0],
            "high": [11.0, 9.5, 10.0],
            "low": [9.0, 9.6, 9.5],
            "close": [10.5, 9.7, 9.8],
            "volume": [1.0, 1.0, 1.0],
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    accepted, report = validate(bars, DataKind.BARS)
    assert accepted.height == 1
    assert report.rejected == {Reason.INCONSISTENT_BAR: 2}


def test_out_of_range_uses_inclusive_start_and_exclusive_end() -> None:
    start = datetime.fromtimestamp(T0 / 1e9 + 0, tz=UTC)
    frame = trades(ts=[T0 - 1, T0, T0 + 1_000_000_000, T0 + 2_000_000_000])
    end = datetime.fromtimestamp((T0 + 2_000_000_000) / 1e9, tz=UTC)
    accepted, report = validate(frame, DataKind.TRADES, start=start, end=end)
    assert accepted.get_column("ts").dt.epoch("ns").to_list() == [T0, T0 + 1_000_000_000]
    assert report.rejected == {Reason.OUT_OF_RANGE: 2}


def test_first_of_each_key_is_kept_and_output_is_sorted_by_key() -> None:
    frame = trades(
        ts=[T0 + 5, T0 + 1, T0 + 5, T0 + 1],
        trade_id=["b", "a", "b", "a"],
        price=[1.0, 2.0, 3.0, 4.0],
    )
    accepted, report = validate(frame, DataKind.TRADES)
    assert accepted.get_column("price").to_list() == [2.0, 1.0]
    assert report.rejected == {Reason.DUPLICATE_KEY: 2}


def test_the_last_quote_update_at_an_instant_prevails() -> None:
    quotes = pl.DataFrame(
        {
            "symbol": ["X"] * 3,
            "ts": [T0, T0, T0 + 1],
            "bid": [10.0, 10.1, 10.2],
            "ask": [10.5, 10.6, 10.7],
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    accepted, report = validate(quotes, DataKind.QUOTES)
    assert accepted.get_column("bid").to_list() == [10.1, 10.2]
    assert accepted.get_column("bid_size").null_count() == 2
    assert report.rejected == {Reason.DUPLICATE_KEY: 1}


def test_a_bad_row_never_shadows_a_good_row_with_the_same_key() -> None:
    frame = trades(ts=[T0, T0], trade_id=["a", "a"], price=[-1.0, 5.0])
    accepted, report = validate(frame, DataKind.TRADES)
    assert accepted.get_column("price").to_list() == [5.0]
    assert report.rejected == {Reason.NON_POSITIVE_PRICE: 1}


rows = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C/USD"]),
        st.integers(0, 20),
        st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False, width=32)),
        st.floats(-2, 50, allow_nan=False),
        st.sampled_from([-1, 0, 1, 3]),
        st.sampled_from(["1", "2", "3"]),
    ),
    max_size=60,
)


@settings(max_examples=deep(150), deadline=None)
@given(rows)
def test_every_row_is_accepted_or_counted_and_accepted_rows_are_clean(
    data: list[tuple[str, int, float | None, float, int, str]],
) -> None:
    frame = pl.DataFrame(
        data, schema=["symbol", "ts", "price", "size", "side", "trade_id"], orient="row"
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")), pl.col("side").cast(pl.Int8))
    accepted, report = validate(frame, DataKind.TRADES)
    assert report.accepted + report.rejected_total == report.received == len(data)
    assert accepted.height == report.accepted
    assert accepted.schema == SCHEMAS[DataKind.TRADES]
    keys = list(KEY_COLUMNS[DataKind.TRADES])
    assert accepted.select(keys).is_unique().all()
    assert accepted.equals(accepted.sort(keys))
    clean = accepted.filter(
        (pl.col("price") > 0)
        & pl.col("price").is_not_nan()
        & (pl.col("size") >= 0)
        & pl.col("side").is_in([-1, 0, 1])
    )
    assert clean.height == accepted.height
    # The kept row of each key is the first valid one in input order.
    valid = [
        r
        for r in data
        if r[2] is not None and r[2] == r[2] and r[2] > 0 and r[3] >= 0 and r[4] in (-1, 0, 1)
    ]
    first: dict[tuple[str, int, str], float] = {}
    for symbol, ts, price, _, _, trade_id in valid:
        first.setdefault((symbol, ts, trade_id), float(price))  # type: ignore[arg-type]
    stored = accepted.with_columns(pl.col("ts").dt.epoch("ns"))
    kept = {
        (symbol, ts, trade_id): price
        for symbol, ts, trade_id, price in stored.select(
            ["symbol", "ts", "trade_id", "price"]
        ).iter_rows()
    }
    assert kept == first


def test_timeframes_parse_and_refuse_nonsense() -> None:
    assert str(Timeframe.parse("1Min")) == "1m"
    assert Timeframe.parse("1Hour").nanos == 3_600_000_000_000
    assert Timeframe.parse("1D") == Timeframe.parse("1day")
    with pytest.raises(ValidationError, match="Unknown timeframe"):
        Timeframe.parse("0m")
    with pytest.raises(ValidationError, match="Unknown timeframe"):
        Timeframe.parse("fortnight")
    assert Timeframe.parse("5mins") == Timeframe.parse("5Min")
    assert Timeframe.parse("2 hours").nanos == 7_200_000_000_000
    assert Timeframe.parse("30s").nanos == 30_000_000_000
    with pytest.raises(ValidationError, match="Unknown timeframe"):
        Timeframe.parse("100ms")  # milliseconds are not minutes
