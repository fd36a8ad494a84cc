"""Trend, directional and channel indicators equal TA-Lib (and, for Keltner and Donchian,
an independent computation from TA-Lib's EMA/ATR and pandas rolling windows)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import polars as pl
import pytest
import talib

from cift.core.errors import ValidationError
from cift.features.engine import compute
from cift.features.spec import parse_call
from tests.features.reference import assert_matches_talib, columns, random_bars, real_bars


def _keltner(n: int, multiplier: float, n_atr: int) -> object:
    def outputs(a: dict[str, np.ndarray]) -> list[np.ndarray]:
        middle = talib.EMA(a["close"], n)
        width = multiplier * talib.ATR(a["high"], a["low"], a["close"], n_atr)
        middle = np.where(np.isnan(width), np.nan, middle)
        return [middle + width, middle, middle - width]

    return outputs


def _donchian(n: int) -> object:
    def outputs(a: dict[str, np.ndarray]) -> list[np.ndarray]:
        upper = pd.Series(a["high"]).rolling(n).max().to_numpy()
        lower = pd.Series(a["low"]).rolling(n).min().to_numpy()
        return [upper, (upper + lower) / 2, lower]

    return outputs


CASES: dict[str, object] = {
    "plus_dm": lambda a: [talib.PLUS_DM(a["high"], a["low"])],
    "plus_dm(3)": lambda a: [talib.PLUS_DM(a["high"], a["low"], 3)],
    "minus_dm": lambda a: [talib.MINUS_DM(a["high"], a["low"])],
    "minus_dm(30)": lambda a: [talib.MINUS_DM(a["high"], a["low"], 30)],
    "plus_di": lambda a: [talib.PLUS_DI(a["high"], a["low"], a["close"])],
    "plus_di(5)": lambda a: [talib.PLUS_DI(a["high"], a["low"], a["close"], 5)],
    "minus_di": lambda a: [talib.MINUS_DI(a["high"], a["low"], a["close"])],
    "minus_di(2)": lambda a: [talib.MINUS_DI(a["high"], a["low"], a["close"], 2)],
    "dx": lambda a: [talib.DX(a["high"], a["low"], a["close"])],
    "dx(7)": lambda a: [talib.DX(a["high"], a["low"], a["close"], 7)],
    "adx": lambda a: [talib.ADX(a["high"], a["low"], a["close"])],
    "adx(2)": lambda a: [talib.ADX(a["high"], a["low"], a["close"], 2)],
    "adx(40)": lambda a: [talib.ADX(a["high"], a["low"], a["close"], 40)],
    "adxr": lambda a: [talib.ADXR(a["high"], a["low"], a["close"])],
    "adxr(2)": lambda a: [talib.ADXR(a["high"], a["low"], a["close"], 2)],
    "adxr(9)": lambda a: [talib.ADXR(a["high"], a["low"], a["close"], 9)],
    "sar": lambda a: [talib.SAR(a["high"], a["low"])],
    "sar(0.05,0.5)": lambda a: [talib.SAR(a["high"], a["low"], 0.05, 0.5)],
    "sar(0.3,0.2)": lambda a: [talib.SAR(a["high"], a["low"], 0.3, 0.2)],
    "aroon": lambda a: list(talib.AROON(a["high"], a["low"])),
    "aroon(25)": lambda a: list(talib.AROON(a["high"], a["low"], 25)),
    "aroonosc": lambda a: [talib.AROONOSC(a["high"], a["low"])],
    "aroonosc(5)": lambda a: [talib.AROONOSC(a["high"], a["low"], 5)],
    "midpoint": lambda a: [talib.MIDPOINT(a["close"])],
    "midpoint(5)": lambda a: [talib.MIDPOINT(a["close"], 5)],
    "midprice": lambda a: [talib.MIDPRICE(a["high"], a["low"])],
    "midprice(2)": lambda a: [talib.MIDPRICE(a["high"], a["low"], 2)],
    "midprice(33)": lambda a: [talib.MIDPRICE(a["high"], a["low"], 33)],
    "linearreg": lambda a: [talib.LINEARREG(a["close"])],
    "linearreg(50)": lambda a: [talib.LINEARREG(a["close"], 50)],
    "linearreg_slope": lambda a: [talib.LINEARREG_SLOPE(a["close"])],
    "linearreg_slope(3)": lambda a: [talib.LINEARREG_SLOPE(a["close"], 3)],
    "linearreg_intercept": lambda a: [talib.LINEARREG_INTERCEPT(a["close"])],
    "linearreg_angle": lambda a: [talib.LINEARREG_ANGLE(a["close"])],
    "tsf": lambda a: [talib.TSF(a["close"])],
    "tsf(7)": lambda a: [talib.TSF(a["close"], 7)],
    "kama": lambda a: [talib.KAMA(a["close"])],
    "kama(10)": lambda a: [talib.KAMA(a["close"], 10)],
    "t3": lambda a: [talib.T3(a["close"])],
    "t3(1,0.7)": lambda a: [talib.T3(a["close"], 1, 0.7)],
    "t3(10,0.2)": lambda a: [talib.T3(a["close"], 10, 0.2)],
    "trix": lambda a: [talib.TRIX(a["close"])],
    "trix(1)": lambda a: [talib.TRIX(a["close"], 1)],
    "trix(9)": lambda a: [talib.TRIX(a["close"], 9)],
    "keltner": _keltner(20, 2.0, 10),
    "keltner(10,1.5,30)": _keltner(10, 1.5, 30),
    "donchian": _donchian(20),
    "donchian(1)": _donchian(1),
    "donchian(7)": _donchian(7),
}
REAL = real_bars()


def flat_stretches(rows: int = 4_000, seed: int = 7) -> pl.DataFrame:
    """Random bars with runs where nothing trades (H = L = C, unchanged), from the first
    bar and later, and runs of inside bars (the same range, closes inside it), one of them
    1,200 bars long. Ranges, directional movement and changes are exactly zero there or
    decay towards it, so every zero guard of the indicators is met."""
    frame = random_bars(rows, seed)
    rng = np.random.default_rng(seed)
    a = {name: values.copy() for name, values in columns(frame).items()}
    runs = [(0, 60, True), (1_500, 2_700, False)]
    runs += [
        (int(s), int(s + rng.integers(20, 150)), bool(rng.random() < 0.5))
        for s in rng.choice(np.r_[100:1_300, 2_800:3_800], 10, replace=False)
    ]
    for start, end, flat in runs:
        if flat:
            a["high"][start:end] = a["low"][start:end] = a["close"][start:end] = a["close"][start]
        else:
            a["high"][start:end] = a["high"][start]
            a["low"][start:end] = a["low"][start]
            a["close"][start:end] = (a["high"][start] + a["low"][start]) / 2
    return frame.with_columns(pl.Series(k, v) for k, v in a.items())


def test_flat_stretches_meet_the_zero_guards() -> None:
    """The series above does reach TA-Lib's special cases (else its test proves little)."""
    a = columns(flat_stretches())
    high, low, close = a["high"], a["low"], a["close"]
    assert (talib.PLUS_DI(high, low, close)[14:60] == 0).all()  # no range yet
    assert (talib.DX(high, low, close)[14:60] == 0).all()
    di_sum = talib.PLUS_DI(high, low, close) + talib.MINUS_DI(high, low, close)
    assert (di_sum[2_000:2_700] < 1e-14).any()  # DX repeats itself, ADX holds
    assert (np.diff(talib.DX(high, low, close)[2_600:2_700]) == 0).all()
    assert (talib.KAMA(close)[40:60] == close[0]).all()


@pytest.mark.parametrize("call", sorted(CASES))
@pytest.mark.parametrize("series", sorted(REAL))
def test_equals_talib_on_real_data(call: str, series: str) -> None:
    assert_matches_talib(REAL[series], call, CASES[call])  # type: ignore[arg-type]


@pytest.mark.parametrize("call", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_talib_on_random_data(call: str, seed: int) -> None:
    assert_matches_talib(random_bars(seed=seed), call, CASES[call])  # type: ignore[arg-type]


@pytest.mark.parametrize("call", sorted(CASES))
def test_equals_talib_through_flat_and_inside_bars(call: str) -> None:
    assert_matches_talib(flat_stretches(), call, CASES[call])  # type: ignore[arg-type]


@pytest.mark.parametrize("call", sorted(CASES))
def test_resumes_from_its_state_at_any_cut(call: str) -> None:
    """The kernel run over pieces of a series, carrying its state, writes exactly what one
    run over the whole series writes (what live updates rely on)."""
    spec = parse_call(call).spec
    params = parse_call(call).params
    frame = random_bars(700, seed=3)
    inputs = tuple(frame.get_column(c).cast(pl.Float64).to_numpy() for c in spec.inputs)
    whole = np.empty((len(spec.outputs), frame.height))
    spec.kernel(inputs, params, spec.new_state(params), whole)
    cuts = [0, 1, 2, 17, 18, 60, 61, 62, 200, 333, 500, 699, frame.height]
    pieces = np.empty_like(whole)
    state = spec.new_state(params)
    for start, end in itertools.pairwise(cuts):
        part = np.empty((len(spec.outputs), end - start))
        spec.kernel(tuple(x[start:end] for x in inputs), params, state, part)
        pieces[:, start:end] = part
    assert np.array_equal(whole, pieces, equal_nan=True)


@pytest.mark.parametrize("series", sorted(REAL))
def test_regression_outputs_fit_the_window_by_least_squares(series: str) -> None:
    """Independent of TA-Lib: a least-squares fit (numpy) of each window gives the slope,
    the line at the oldest and newest bar and one bar ahead."""
    frame = REAL[series].head(600)
    close = columns(frame)["close"]
    n = 14
    calls = [parse_call(f"{name}({n})") for name in ("linearreg", "linearreg_slope")]
    calls += [parse_call(f"{name}({n})") for name in ("linearreg_intercept", "tsf")]
    calls.append(parse_call(f"linearreg_angle({n})"))
    out = compute(frame, calls)
    windows = np.lib.stride_tricks.sliding_window_view(close, n)
    slope, intercept = np.polynomial.polynomial.polyfit(np.arange(n), windows.T, 1)[::-1]
    scale = 1e-12 * float(np.median(close))
    expected = {
        "linearreg": intercept + slope * (n - 1),
        "linearreg_slope": slope,
        "linearreg_intercept": intercept,
        "tsf": intercept + slope * n,
        "linearreg_angle": np.degrees(np.arctan(slope)),
    }
    for column, values in expected.items():
        ours = out.get_column(column).to_numpy()
        assert np.isnan(ours[: n - 1]).all()
        np.testing.assert_allclose(ours[n - 1 :], values, rtol=0, atol=scale, err_msg=column)


def test_aroon_counts_bars_since_the_extremes() -> None:
    """A hand-checked window of 6 bars: the high 2 bars ago and the low 3 bars ago (both
    tied with an older bar: ties go to the newest) give up = 100·(5-2)/5 and
    down = 100·(5-3)/5."""
    high = [10.0, 11.0, 12.0, 13.0, 15.0, 14.0, 15.0, 14.0, 13.0]
    low = [9.0, 8.0, 8.0, 7.0, 9.0, 7.0, 8.0, 8.0, 9.0]
    frame = pl.DataFrame({"high": high, "low": low})
    out = compute(frame, [parse_call("aroon(5)"), parse_call("aroonosc(5)")])
    assert out.get_column("aroon_down").null_count() == 5
    row = out.row(8, named=True)
    assert row["aroon_up"] == pytest.approx(100 * (5 - 2) / 5)
    assert row["aroon_down"] == pytest.approx(100 * (5 - 3) / 5)
    assert row["aroonosc"] == pytest.approx(row["aroon_up"] - row["aroon_down"])


def test_keltner_parameters_are_named() -> None:
    call = parse_call("keltner(timeperiod=20, multiplier=1.5, atr_period=14)")
    assert call.values == (20.0, 1.5, 14.0)
    assert parse_call("sar").values == (0.02, 0.2)
    assert parse_call("t3").values == (5.0, 0.7)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("adx(1)", "at least 2"),
        ("aroon(1)", "at least 2"),
        ("t3(5, 1.5)", "at most 1"),
        ("sar(-0.1)", "at least 0"),
        ("keltner(20, 2, 0)", "at least 1"),
        ("linearreg_slope(7.5)", "whole number"),
    ],
)
def test_bad_parameters_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_call(text)
