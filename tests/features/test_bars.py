"""Tick, volume, dollar and imbalance bars: the C13 vectors, independent loops, invariants."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from cift.cli.app import app
from cift.core.errors import ValidationError
from cift.data.files import load
from cift.features.bars import imbalance_bars, standard_bars, trade_signs
from cift.features.kernels import sampling as ks
from cift.model import BAR_SCHEMA
from tests.budget import deep
from tests.features.reference import DATA

C13_PRICE = [10.0, 10.1, 10.05, 10.2, 10.15, 10.3, 10.25, 10.2, 10.4, 10.35]
C13_SIZE = [30.0, 50.0, 40.0, 20.0, 60.0, 10.0, 70.0, 30.0, 20.0, 50.0]
SECOND = 1_000_000_000


def tape(price: list[float], size: list[float], symbol: str = "X") -> pl.DataFrame:
    """Trades one second apart; a trade's index is its ts in seconds."""
    return pl.DataFrame(
        {
            "symbol": [symbol] * len(price),
            "ts": np.arange(len(price), dtype=np.int64) * SECOND,
            "price": price,
            "size": size,
        }
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))


def ends(bars: pl.LazyFrame) -> list[int]:
    """The index of each bar's closing trade (from ``ts_end`` of a ``tape``)."""
    frame = bars.collect()
    return [int(t) // SECOND for t in frame.get_column("ts_end").cast(pl.Int64)]


def btc_trades() -> pl.DataFrame:
    return load(DATA / "ticks/btcusdt-trades-binance.parquet").frame


def test_c13_tick_volume_and_dollar_bars() -> None:
    trades = tape(C13_PRICE, C13_SIZE)
    assert ends(standard_bars(trades, "tick", 4, with_end=True)) == [3, 7]
    volume = standard_bars(trades, "volume", 100, with_end=True)
    assert ends(volume) == [2, 6, 9]
    ohlcv = volume.select("open", "high", "low", "close", "volume").collect().rows()
    assert ohlcv == [
        (10.0, 10.1, 10.0, 10.05, 120.0),
        (10.2, 10.3, 10.15, 10.25, 160.0),
        (10.2, 10.4, 10.2, 10.35, 100.0),
    ]
    assert ends(standard_bars(trades, "dollar", 1000, with_end=True)) == [2, 6, 9]
    assert volume.collect_schema() == pl.Schema({**BAR_SCHEMA, "ts_end": BAR_SCHEMA["ts"]})
    assert standard_bars(trades, "volume", 100).collect_schema() == BAR_SCHEMA


def test_c13_tick_signs_and_imbalance_threshold() -> None:
    trades = tape(C13_PRICE, C13_SIZE)
    signs = trade_signs(trades, first_sign=1).collect().get_column("sign").to_list()
    assert signs == [1, 1, -1, 1, -1, 1, -1, -1, 1, -1]

    def fixed(expected_imbalance: float) -> list[int]:
        bars = imbalance_bars(
            trades,
            "tick",
            expected_ticks=5,
            expected_imbalance=expected_imbalance,
            bar_span=None,
            imbalance_span=None,
            first_sign=1,
            with_end=True,
        )
        return ends(bars)

    assert fixed(0.4) == [1, 7]  # |theta| >= 2 closes; the strict rule would close none
    assert fixed(0.4 + 1e-12) == []


def test_bar_timestamps_are_first_trades_and_the_open_bar_is_dropped() -> None:
    trades = tape(C13_PRICE, C13_SIZE)
    bars = standard_bars(trades, "tick", 4).collect()
    assert [int(t) // SECOND for t in bars.get_column("ts").cast(pl.Int64)] == [0, 4]
    with_open = standard_bars(trades, "tick", 4, partial=True).collect()
    assert with_open.get_column("trades").to_list() == [4, 4, 2]
    assert with_open.row(2, named=True)["open"] == 10.4


def standard_loop(price: np.ndarray, size: np.ndarray, kind: str, threshold: float) -> list:  # type: ignore[type-arg]
    """A plain loop in the mlfinlab style: (open, high, low, close, volume, trades)."""
    bars, start, total = [], 0, 0.0
    for i in range(len(price)):
        total += {"tick": 1.0, "volume": size[i], "dollar": price[i] * size[i]}[kind]
        if total >= threshold:
            chunk, sizes = price[start : i + 1], size[start : i + 1]
            bars.append((chunk[0], chunk.max(), chunk.min(), chunk[-1], sizes.sum(), i + 1 - start))
            start, total = i + 1, 0.0
    return bars


@pytest.mark.parametrize(("kind", "threshold"), [("tick", 50), ("volume", 2.5), ("dollar", 1e5)])
def test_real_trades_equal_a_plain_loop(kind: str, threshold: float) -> None:
    trades = btc_trades()
    price, size = trades.get_column("price").to_numpy(), trades.get_column("size").to_numpy()
    bars = standard_bars(trades, kind, threshold).collect()  # type: ignore[arg-type]
    expected = standard_loop(price, size, kind, threshold)
    assert len(expected) > 15
    ours = bars.select("open", "high", "low", "close", "volume", "trades").rows()
    assert len(ours) == len(expected)
    for got, want in zip(ours, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_real_volume_bars_reach_the_threshold_with_the_closing_trade() -> None:
    trades = btc_trades()
    threshold = 1.0
    bars = standard_bars(trades, "volume", threshold, with_end=True).collect()
    closing = np.cumsum(bars.get_column("trades").to_numpy()) - 1
    last_size = trades.get_column("size").to_numpy()[closing]
    assert (trades.get_column("ts").to_numpy()[closing] == bars["ts_end"].to_numpy()).all()
    volume = bars.get_column("volume").to_numpy()
    assert (volume >= threshold).all()
    assert (volume - last_size < threshold).all()
    vwap, low, high = (bars.get_column(c).to_numpy() for c in ("vwap", "low", "high"))
    assert (vwap >= low * (1 - 1e-12)).all()  # a one-trade bar's vwap may be off by an ulp
    assert (vwap <= high * (1 + 1e-12)).all()


def imbalance_loop(
    price: np.ndarray,
    metric: np.ndarray,
    e0: float,
    bar_span: float,
    imbalance_span: float,
    bounds: tuple[float, float],
) -> list[int]:
    """AFML 2.3.2 written out with pandas' EWMA, recomputed at every close: closing rows."""
    signs = [0.0]
    for i in range(1, len(price)):
        change = np.sign(price[i] - price[i - 1])
        signs.append(change if change != 0 else signs[-1])
    imbalance = np.array(signs) * metric
    closes, lengths, theta, ticks = [], [], 0.0, 0
    expected_ticks, expected = e0, math.nan

    def ewma(values: list[int] | np.ndarray, span: float) -> float:
        return float(pd.Series(values).ewm(span=span, adjust=True).mean().iloc[-1])

    for i in range(len(price)):
        theta += imbalance[i]
        ticks += 1
        if math.isnan(expected) and i + 1 >= math.ceil(e0):
            expected = ewma(imbalance[: i + 1], imbalance_span)
        if not math.isnan(expected) and theta != 0 and abs(theta) >= expected_ticks * abs(expected):
            closes.append(i)
            lengths.append(ticks)
            expected_ticks = min(max(ewma(lengths, bar_span), bounds[0] * e0), bounds[1] * e0)
            expected = ewma(imbalance[: i + 1], imbalance_span)
            theta, ticks = 0.0, 0
    return closes


@pytest.mark.parametrize(
    ("kind", "e0", "bar_span", "imbalance_span", "bounds"),
    [("tick", 30, 10, 500, (0.5, 2.0)), ("volume", 20, 5, 200, (0.2, 5.0))],
)
def test_real_imbalance_bars_equal_a_pandas_loop(
    kind: str, e0: float, bar_span: float, imbalance_span: float, bounds: tuple[float, float]
) -> None:
    trades = btc_trades().with_row_index("i")
    price, size = trades.get_column("price").to_numpy(), trades.get_column("size").to_numpy()
    metric = np.ones(len(price)) if kind == "tick" else size
    expected = imbalance_loop(price, metric, e0, bar_span, imbalance_span, bounds)
    bars = imbalance_bars(
        trades,
        kind,  # type: ignore[arg-type]
        expected_ticks=e0,
        bar_span=bar_span,
        imbalance_span=imbalance_span,
        bounds=bounds,
    ).collect()
    assert len(expected) > 20
    counts = bars.get_column("trades").to_numpy()
    assert (np.cumsum(counts) - 1).tolist() == expected


def test_aggressor_side_replaces_the_tick_rule_where_known() -> None:
    trades = btc_trades()
    signed = trade_signs(trades, "side").collect()
    assert (signed.get_column("sign") == signed.get_column("side")).all()
    unknown = trades.with_columns(pl.lit(0, pl.Int8).alias("side"))
    assert_frame_equal(
        trade_signs(unknown, "side").collect().select("sign"),
        trade_signs(trades, "tick").collect().select("sign"),
    )


trade_rows = st.lists(
    st.tuples(
        st.sampled_from(["A", "B"]),
        st.integers(0, 40),  # seconds: repeated timestamps happen
        st.sampled_from([99.5, 99.75, 100.0, 100.25, 100.5]),
        st.sampled_from([0.0, 1.0, 2.0, 5.0, 13.0]),
        st.sampled_from([-1, 0, 1]),
    ),
    min_size=1,
    max_size=120,
)


def random_tape(rows: list[tuple[str, int, float, float, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["symbol", "ts", "price", "size", "side"], orient="row"
    ).with_columns(
        (pl.col("ts") * SECOND).cast(pl.Datetime("ns", "UTC")), pl.col("side").cast(pl.Int8)
    )


def any_bars(trades: pl.DataFrame, choice: int, *, partial: bool) -> pl.DataFrame:
    """One of several bar rules, picked by ``choice``."""
    if choice < 3:
        kind, threshold = [("tick", 3), ("volume", 10.0), ("dollar", 1500.0)][choice]
        return standard_bars(trades, kind, threshold, partial=partial, with_end=True).collect()  # type: ignore[arg-type]
    return imbalance_bars(
        trades,
        ["tick", "volume"][choice - 3],  # type: ignore[arg-type]
        expected_ticks=4,
        bar_span=3,
        imbalance_span=10,
        signs="side",
        partial=partial,
        with_end=True,
    ).collect()


@settings(max_examples=deep(60), deadline=None)
@given(rows=trade_rows, choice=st.integers(0, 4))
def test_bars_partition_the_trades(rows: list, choice: int) -> None:  # type: ignore[type-arg]
    trades = random_tape(rows).sort("symbol", "ts", maintain_order=True)
    bars = any_bars(trades, choice, partial=True)
    for symbol, own in trades.group_by("symbol"):
        price, size = own.get_column("price").to_numpy(), own.get_column("size").to_numpy()
        mine = bars.filter(pl.col("symbol") == symbol[0])
        bounds = np.concatenate([[0], np.cumsum(mine.get_column("trades").to_numpy())])
        assert bounds[-1] == own.height  # every trade in exactly one bar, in order
        for k, bar in enumerate(mine.iter_rows(named=True)):
            chunk = slice(bounds[k], bounds[k + 1])
            assert (bar["open"], bar["close"]) == (price[chunk][0], price[chunk][-1])
            assert (bar["high"], bar["low"]) == (price[chunk].max(), price[chunk].min())
            assert bar["volume"] == pytest.approx(size[chunk].sum(), rel=1e-12)
            assert bar["ts"] == own.get_column("ts")[int(bounds[k])]
            assert bar["ts_end"] == own.get_column("ts")[int(bounds[k + 1]) - 1]
        if choice < 3:
            kind, threshold = [("tick", 3), ("volume", 10.0), ("dollar", 1500.0)][choice]
            metric = {"tick": np.ones_like(size), "volume": size, "dollar": price * size}[kind]
            for k in range(len(bounds) - 1):
                reached = np.cumsum(metric[bounds[k] : bounds[k + 1]]) >= threshold
                assert not reached[:-1].any()  # a bar closes at the first trade reaching it
                if k < len(bounds) - 2:  # every bar but the open one reaches it
                    assert reached[-1]


@settings(max_examples=deep(60), deadline=None)
@given(rows=trade_rows, choice=st.integers(0, 4), cut=st.floats(0, 1))
def test_no_bar_depends_on_a_trade_after_its_close(rows: list, choice: int, cut: float) -> None:  # type: ignore[type-arg]
    trades = random_tape(rows).sort("symbol", "ts", maintain_order=True)
    prefix = trades.head(int(cut * trades.height))
    whole, early = any_bars(trades, choice, partial=False), any_bars(prefix, choice, partial=False)
    for symbol, own in early.group_by("symbol"):
        later = whole.filter(pl.col("symbol") == symbol[0]).head(own.height)
        assert_frame_equal(own.sort("ts_end", maintain_order=True), later)


@settings(max_examples=deep(40), deadline=None)
@given(rows=trade_rows, split=st.floats(0, 1))
def test_imbalance_kernel_resumes_across_chunks(rows: list, split: float) -> None:  # type: ignore[type-arg]
    trades = random_tape(rows)
    price, size = trades.get_column("price").to_numpy(), trades.get_column("size").to_numpy()
    side = trades.get_column("side").cast(pl.Float64).to_numpy()
    params = np.array([4.0, 0.5, 0.2, 2.0, 8.0, 1.0])
    state = np.zeros(ks.IMBALANCE_STATE)
    state[ks.EXP_TICKS], state[ks.EXP_IMB] = 4.0, np.nan
    resumed = state.copy()
    one, two = np.empty(len(price), np.int64), np.empty(len(price), np.int64)
    ks.imbalance_bar_ids(price, size, side, params, state, one)
    k = int(split * len(price))
    ks.imbalance_bar_ids(price[:k], size[:k], side[:k], params, resumed, two[:k])
    ks.imbalance_bar_ids(price[k:], size[k:], side[k:], params, resumed, two[k:])
    assert np.array_equal(one, two)
    assert np.array_equal(state, resumed, equal_nan=True)


def test_symbols_are_sampled_apart() -> None:
    one = tape(C13_PRICE, C13_SIZE, "AAA")
    two = tape(C13_PRICE[::-1], C13_SIZE[::-1], "BBB")
    mixed = pl.concat([two, one]).sample(fraction=1.0, shuffle=True, seed=7)
    together = standard_bars(mixed, "volume", 100).collect()
    for alone in (one, two):
        symbol = alone.item(0, "symbol")
        assert_frame_equal(
            together.filter(pl.col("symbol") == symbol),
            standard_bars(alone, "volume", 100).collect(),
        )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: standard_bars(t, "range", 1), "Unknown bar kind"),  # type: ignore[arg-type]
        (lambda t: standard_bars(t, "volume", 0), "threshold must be a positive number"),
        (lambda t: standard_bars(t, "tick", 2.5), "number of trades"),
        (lambda t: standard_bars(t.drop("size"), "tick", 2), r"missing \['size'\]"),
        (lambda t: imbalance_bars(t, "tick", expected_ticks=0.5), "at least 1"),
        (lambda t: imbalance_bars(t, "tick", expected_ticks=5, bounds=(2, 3)), "0 < low <= 1"),
        (lambda t: imbalance_bars(t, "tick", expected_ticks=5, bar_span=0), "bar_span"),
        (
            lambda t: imbalance_bars(t, "tick", expected_ticks=5, imbalance_span=None),
            "give its value with expected_imbalance",
        ),
        (lambda t: imbalance_bars(t, "tick", expected_ticks=5, signs="side"), r"\['side'\]"),
        (lambda t: trade_signs(t, first_sign=2), "first_sign must be -1, 0 or 1"),
        (
            lambda t: standard_bars(t.with_columns(size=pl.col("size") - 40), "tick", 2),
            "missing or negative size",
        ),
    ],
)
def test_bad_input_is_explained(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=message):
        call(tape(C13_PRICE, C13_SIZE)).collect()


def test_cli_samples_a_trades_file(tmp_path: Path) -> None:
    source, out = str(DATA / "ticks/btcusdt-trades-binance.parquet"), tmp_path / "bars.parquet"
    runner = CliRunner()
    args = ["features", "bars", "--input", source, "-o", str(out)]
    result = runner.invoke(app, [*args, "--kind", "dollar", "--threshold", "50000"])
    assert result.exit_code == 0, result.output
    assert_frame_equal(pl.read_parquet(out), standard_bars(btc_trades(), "dollar", 5e4).collect())
    result = runner.invoke(app, [*args, "--kind", "tick", "--imbalance", "40"])
    assert result.exit_code == 0, result.output
    expected = imbalance_bars(btc_trades(), "tick", expected_ticks=40).collect()
    assert_frame_equal(pl.read_parquet(out), expected)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "Give --threshold (standard bars) or --imbalance" in result.output
