"""The event stream's order: time, then quotes, trades and bars, each by symbol, whatever
order the rows arrive in; a frame already ordered by symbol and time is kept as is."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cift.backtest import events as ev
from cift.model import Timeframe

MINUTE = 60_000_000_000
BASE = 1_700_000_000_000_000_000
SYMBOLS = ["AAA", "BBB", "CCC"]

rows = st.lists(
    st.tuples(st.sampled_from(SYMBOLS), st.integers(0, 6), st.floats(1, 100)),
    min_size=1,
    max_size=40,
)


def _frame(picked: list[tuple[str, int, float]], value: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "symbol": [s for s, _, _ in picked],
            "ts": pl.Series([BASE + m * MINUTE for _, m, _ in picked]).cast(
                pl.Datetime("ns", "UTC")
            ),
            value: [v for _, _, v in picked],
        }
    )


def _bars(picked: list[tuple[str, int, float]]) -> pl.DataFrame:
    return _frame(picked, "close").with_columns(
        open=pl.col("close"), high=pl.col("close"), low=pl.col("close"), volume=pl.lit(1.0)
    )


def _events(stream: ev.EventStream) -> list[tuple[int, int, str, int, float]]:
    """(time, kind, symbol, ts, the row's first value) of every event, in stream order."""
    seen = []
    for kind, row, time in zip(stream.kind, stream.row, stream.time, strict=True):
        columns = {ev.BAR: stream.bars, ev.TRADE: stream.trades}[int(kind)]
        assert columns is not None
        value = columns.values["close" if kind == ev.BAR else "price"][row]
        symbol = stream.symbols[int(columns.symbol[row])]
        seen.append((int(time), int(kind), symbol, int(columns.ts[row]), float(value)))
    return seen


@settings(max_examples=60, deadline=None)
@given(bars=rows, trades=rows, data=st.data())
def test_stream_order_follows_time_kind_symbol_whatever_the_input_order(
    bars: list[tuple[str, int, float]],
    trades: list[tuple[str, int, float]],
    data: st.DataObject,
) -> None:
    shuffled_bars = data.draw(st.permutations(bars))
    shuffled_trades = data.draw(st.permutations(trades))
    stream = ev.build(
        _bars(shuffled_bars), Timeframe.parse("1m"), trades=_frame(shuffled_trades, "price")
    )
    # Independently: every event with its time, sorted by (time, kind, symbol, ts); rows
    # equal in all of these keep their input order (Python's sort is stable).
    expected = [
        (BASE + (m + 1) * MINUTE, ev.BAR, s, BASE + m * MINUTE, v) for s, m, v in shuffled_bars
    ] + [(BASE + m * MINUTE, ev.TRADE, s, BASE + m * MINUTE, v) for s, m, v in shuffled_trades]
    expected.sort(key=lambda e: e[:4])
    assert _events(stream) == expected


def test_rows_already_ordered_by_symbol_and_time_are_kept_as_they_are() -> None:
    ordered = _bars([("AAA", 0, 1.0), ("AAA", 1, 2.0), ("BBB", 0, 3.0)])
    unordered = _bars([("BBB", 0, 3.0), ("AAA", 1, 2.0), ("AAA", 0, 1.0)])
    kept = ev.build(ordered, Timeframe.parse("1m"))
    sorted_ = ev.build(unordered, Timeframe.parse("1m"))
    assert kept.bars is not None
    assert sorted_.bars is not None
    assert kept.bars.frame.equals(sorted_.bars.frame)
    assert kept.bars.symbol.tolist() == [0, 0, 1]
    assert kept.bars.values["close"].tolist() == [1.0, 2.0, 3.0]


def test_rows_time_by_time_are_kept_and_each_symbols_rows_found() -> None:
    by_time = _bars([("BBB", 0, 3.0), ("AAA", 0, 1.0), ("AAA", 1, 2.0), ("BBB", 1, 4.0)])
    stream = ev.build(by_time, Timeframe.parse("1m"))
    assert stream.bars is not None
    assert stream.bars.values["close"].tolist() == [3.0, 1.0, 2.0, 4.0]  # not reordered
    rows = stream.bars.by_symbol
    assert rows.order is not None
    assert [rows.order[rows.starts[s] : rows.starts[s + 1]].tolist() for s in (0, 1)] == [
        [1, 2],
        [0, 3],
    ]
    assert rows.latest(1, 3, 5).tolist() == [0, 3]  # BBB's values up to row 3
    assert [stream.bars.values["close"][r] for r in stream.row] == [1.0, 3.0, 2.0, 4.0]


def test_rows_interleaved_unevenly_are_kept_and_their_symbol_order_found_once() -> None:
    """Each symbol in time order, but neither time by time nor symbol by symbol (as two
    feeds appended one after another): kept, and the symbol order found while checking
    is the one used for features and history."""
    uneven = _bars([("AAA", 0, 1.0), ("AAA", 1, 2.0), ("BBB", 0, 3.0), ("AAA", 2, 5.0)])
    stream = ev.build(uneven, Timeframe.parse("1m"))
    assert stream.bars is not None
    assert stream.bars.values["close"].tolist() == [1.0, 2.0, 3.0, 5.0]
    assert stream.bars.order is not None
    assert stream.bars.by_symbol.order is stream.bars.order
    assert stream.bars.order.tolist() == [0, 1, 3, 2]
    assert stream.bars.by_symbol.latest(0, 3, 2).tolist() == [1, 3]
