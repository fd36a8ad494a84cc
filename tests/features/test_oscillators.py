"""Oscillators and volume indicators equal TA-Lib; the session VWAP equals a pandas
group-by; every kernel resumes from its state wherever a series is cut."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd
import polars as pl
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from cift.core.errors import ValidationError
from cift.features.engine import LiveFeatures, compute
from cift.features.spec import parse_call
from tests.budget import deep
from tests.features.reference import (
    DATA,
    Arrays,
    assert_matches_talib,
    random_bars,
    real_bars,
)

HLC = ("high", "low", "close")
CASES: dict[str, Callable[[Arrays], list[np.ndarray]]] = {
    "cci": lambda a: [talib.CCI(*(a[c] for c in HLC), 14)],
    "cci(5)": lambda a: [talib.CCI(*(a[c] for c in HLC), 5)],
    "cci(40)": lambda a: [talib.CCI(*(a[c] for c in HLC), 40)],
    "cmo": lambda a: [talib.CMO(a["close"], 14)],
    "cmo(2)": lambda a: [talib.CMO(a["close"], 2)],
    "willr": lambda a: [talib.WILLR(*(a[c] for c in HLC), 14)],
    "willr(2)": lambda a: [talib.WILLR(*(a[c] for c in HLC), 2)],
    "willr(50)": lambda a: [talib.WILLR(*(a[c] for c in HLC), 50)],
    "stochrsi": lambda a: list(talib.STOCHRSI(a["close"], 14, 5, 3, 0)),
    "stochrsi(14,14,3)": lambda a: list(talib.STOCHRSI(a["close"], 14, 14, 3, 0)),
    "stochrsi(6,1,1)": lambda a: list(talib.STOCHRSI(a["close"], 6, 1, 1, 0)),
    "ultosc": lambda a: [talib.ULTOSC(*(a[c] for c in HLC), 7, 14, 28)],
    "ultosc(28,7,14)": lambda a: [talib.ULTOSC(*(a[c] for c in HLC), 28, 7, 14)],
    "ultosc(1,5,5)": lambda a: [talib.ULTOSC(*(a[c] for c in HLC), 1, 5, 5)],
    "apo": lambda a: [talib.APO(a["close"], 12, 26, 1)],
    "apo(12,26,0)": lambda a: [talib.APO(a["close"], 12, 26, 0)],
    "apo(26,5,0)": lambda a: [talib.APO(a["close"], 26, 5, 0)],
    "ppo": lambda a: [talib.PPO(a["close"], 12, 26, 1)],
    "ppo(12,26,0)": lambda a: [talib.PPO(a["close"], 12, 26, 0)],
    "ppo(3,10,1)": lambda a: [talib.PPO(a["close"], 3, 10, 1)],
    "bop": lambda a: [talib.BOP(a["open"], a["high"], a["low"], a["close"])],
    "mfi": lambda a: [talib.MFI(*(a[c] for c in HLC), a["volume"], 14)],
    "mfi(3)": lambda a: [talib.MFI(*(a[c] for c in HLC), a["volume"], 3)],
    "ad": lambda a: [talib.AD(*(a[c] for c in HLC), a["volume"])],
    "adosc": lambda a: [talib.ADOSC(*(a[c] for c in HLC), a["volume"], 3, 10)],
    "adosc(10,3)": lambda a: [talib.ADOSC(*(a[c] for c in HLC), a["volume"], 10, 3)],
}
REAL = real_bars()


def flat_bars(rows: int = 3_000, seed: int = 0) -> pl.DataFrame:
    """Tick-rounded bars where prices often do not move, bars often have no range and
    volume is often 0: every zero test of the indicators gets taken."""
    rng = np.random.default_rng(seed)
    steps = rng.choice([-1, 0, 0, 0, 1], rows) * np.where(rng.random(rows) < 0.02, 5, 1)
    close = 4_000 + 0.25 * np.cumsum(steps)
    still = rng.random(rows) < 0.3
    open_ = np.where(still, close, close - 0.25 * rng.integers(-2, 3, rows))
    high = np.maximum(open_, close) + np.where(still, 0.0, 0.25 * rng.integers(0, 3, rows))
    low = np.minimum(open_, close) - np.where(still, 0.0, 0.25 * rng.integers(0, 3, rows))
    stretch = (np.arange(rows) // 40) % 5 == 0  # 40-bar stretches without any trading
    volume = np.where(stretch | (rng.random(rows) < 0.2), 0.0, rng.integers(1, 50, rows))
    for column in (open_, high, low, close):
        column[stretch] = 4_000.0
    return random_bars(rows, seed).with_columns(
        pl.Series("open", open_),
        pl.Series("high", high),
        pl.Series("low", low),
        pl.Series("close", close),
        pl.Series("volume", volume.astype(float)),
    )


@pytest.mark.parametrize("call", sorted(CASES))
@pytest.mark.parametrize("series", sorted(REAL))
def test_equals_talib_on_real_data(call: str, series: str) -> None:
    assert_matches_talib(REAL[series], call, CASES[call])


@pytest.mark.parametrize("call", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_talib_on_random_data(call: str, seed: int) -> None:
    assert_matches_talib(random_bars(seed=seed), call, CASES[call])


@pytest.mark.parametrize("call", sorted(CASES))
def test_equals_talib_on_flat_and_idle_bars(call: str) -> None:
    assert_matches_talib(flat_bars(), call, CASES[call])


def test_defaults_are_talibs() -> None:
    """Called without parameters, each feature computes what TA-Lib does by default."""
    frame = REAL["6e-minute"]
    defaults: dict[str, Callable[[Arrays], list[np.ndarray]]] = {
        "cci": lambda a: [talib.CCI(*(a[c] for c in HLC))],
        "cmo": lambda a: [talib.CMO(a["close"])],
        "willr": lambda a: [talib.WILLR(*(a[c] for c in HLC))],
        "stochrsi": lambda a: list(talib.STOCHRSI(a["close"])),
        "ultosc": lambda a: [talib.ULTOSC(*(a[c] for c in HLC))],
        "apo": lambda a: [talib.APO(a["close"])],
        "ppo": lambda a: [talib.PPO(a["close"])],
        "mfi": lambda a: [talib.MFI(*(a[c] for c in HLC), a["volume"])],
        "adosc": lambda a: [talib.ADOSC(*(a[c] for c in HLC), a["volume"])],
    }
    for call, reference in defaults.items():
        assert_matches_talib(frame, call, reference)


def test_price_oscillators_take_only_simple_or_exponential_averages() -> None:
    with pytest.raises(ValidationError, match="matype must be at most 1"):
        parse_call("apo(12,26,2)")
    with pytest.raises(ValidationError, match="fastk_period must be at least 1"):
        parse_call("stochrsi(14,0)")


def test_oscillators_stay_in_their_ranges() -> None:
    out = compute(REAL["fdax-minute"], [parse_call(t) for t in ("willr", "mfi", "ultosc", "cmo")])
    for column, low, high in (
        ("willr", -100, 0),
        ("mfi", 0, 100),
        ("ultosc", 0, 100),
        ("cmo", -100, 100),
    ):
        values = out.get_column(column).drop_nulls()
        assert values.min() >= low, column  # type: ignore[operator]
        assert values.max() <= high, column  # type: ignore[operator]


# -- session VWAP -----------------------------------------------------------------------


def pandas_session_vwap(frame: pl.DataFrame, session_start_minutes: int) -> np.ndarray:
    """Σ typical price x volume / Σ volume within each 24-hour session, by pandas."""
    bars = frame.select("ts", "high", "low", "close", "volume").to_pandas()
    typical = (bars["high"] + bars["low"] + bars["close"]) / 3
    session = (bars["ts"] - pd.Timedelta(minutes=session_start_minutes)).dt.floor("D")
    value = (typical * bars["volume"]).groupby(session).cumsum()
    size = bars["volume"].groupby(session).cumsum()
    return (value / size.where(size > 0)).to_numpy(dtype=float)


@pytest.mark.parametrize("series", ["6e-minute", "fdax-minute"])
@pytest.mark.parametrize("session_start", [0, 23 * 60, 7 * 60 + 30])
def test_session_vwap_equals_a_pandas_group_by(series: str, session_start: int) -> None:
    frame = REAL[series]
    out = compute(frame, [parse_call(f"vwap({session_start})")])
    ours = out.get_column("vwap_session")
    assert not ours.is_nan().any()
    expected = pandas_session_vwap(frame, session_start)
    np.testing.assert_array_equal(ours.is_null().to_numpy(), np.isnan(expected))
    known = ~np.isnan(expected)
    np.testing.assert_allclose(ours.to_numpy()[known], expected[known], rtol=1e-12)
    assert out.get_column("vwap").equals(frame.get_column("vwap"))  # the bars' own vwap


def test_session_vwap_restarts_at_each_session_and_waits_for_volume() -> None:
    minute = 60_000_000_000
    start = 1_704_153_600_000_000_000  # 2024-01-02 00:00 UTC
    ts = [start - 2 * minute, start - minute, start, start + minute, start + 2 * minute]
    frame = pl.DataFrame(
        {
            "ts": pl.Series(ts).cast(pl.Datetime("ns", "UTC")),
            "high": [11.0, 13.0, 21.0, 31.0, 41.0],
            "low": [9.0, 11.0, 19.0, 29.0, 39.0],
            "close": [10.0, 12.0, 20.0, 30.0, 40.0],
            "volume": [1.0, 3.0, 0.0, 2.0, 2.0],
        }
    )
    vwap = compute(frame, [parse_call("vwap")]).get_column("vwap_session").to_list()
    assert vwap == [10.0, (10.0 + 36.0) / 4, None, 30.0, 35.0]
    late = compute(frame, [parse_call("vwap(1439)")]).get_column("vwap_session").to_list()
    assert late[1:] == [12.0, 12.0, (36.0 + 60.0) / 5, (36.0 + 60.0 + 80.0) / 7]


def test_session_vwap_reads_timestamps_of_any_unit_and_live_datetimes() -> None:
    frame = pl.read_csv(DATA / "minute/6EH4-cme-1min-2024-01.csv.gz", n_rows=3_000)
    bars = frame.select(
        pl.col("timestamp_utc").str.to_datetime(time_zone="UTC").alias("ts"),
        "high",
        "low",
        "close",
        pl.col("volume").cast(pl.Float64),
    )
    expected = pandas_session_vwap(bars.with_columns(pl.col("ts").dt.cast_time_unit("ns")), 0)
    for unit in ("ms", "us", "ns"):
        out = compute(bars.with_columns(pl.col("ts").dt.cast_time_unit(unit)), [parse_call("vwap")])
        np.testing.assert_allclose(out.get_column("vwap_session").to_numpy(), expected, rtol=1e-12)
    live = LiveFeatures([parse_call("vwap")])
    replayed = [live.update("6E", row)["vwap_session"] for row in bars.iter_rows(named=True)]
    np.testing.assert_allclose(np.array(replayed, dtype=float), expected, rtol=1e-12)


# -- resumable state --------------------------------------------------------------------


@settings(max_examples=deep(25), deadline=None)
@given(
    call=st.sampled_from([*sorted(CASES), "vwap", "vwap(600)"]),
    cuts=st.lists(st.integers(1, 599), min_size=1, max_size=6, unique=True),
)
def test_kernels_resume_from_their_state_wherever_the_series_is_cut(
    call: str, cuts: list[int]
) -> None:
    """Fed in pieces with one state, a kernel writes what it writes in one pass."""
    frame = flat_bars(600, seed=3).with_columns(
        pl.col("ts") + pl.duration(minutes=pl.int_range(pl.len()) * 7)
    )
    spec, params = parse_call(call).spec, parse_call(call).params
    inputs = tuple(frame.get_column(c).cast(pl.Float64).to_numpy() for c in spec.inputs)
    whole = np.empty((len(spec.outputs), frame.height))
    spec.kernel(inputs, params, spec.new_state(params), whole)
    pieces = np.empty_like(whole)
    state = spec.new_state(params)
    edges = [0, *sorted(cuts), frame.height]
    for start, end in itertools.pairwise(edges):
        part = np.empty((len(spec.outputs), end - start))
        spec.kernel(tuple(x[start:end] for x in inputs), params, state, part)
        pieces[:, start:end] = part
    np.testing.assert_array_equal(pieces, whole)
