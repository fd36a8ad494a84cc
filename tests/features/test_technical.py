"""Moving averages, momentum, range and volume indicators equal TA-Lib."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from tests.features.reference import assert_matches_talib, random_bars, real_bars

CASES: dict[str, object] = {
    "sma(20)": lambda a: [talib.SMA(a["close"], 20)],
    "sma(3)": lambda a: [talib.SMA(a["close"], 3)],
    "ema(20)": lambda a: [talib.EMA(a["close"], 20)],
    "ema(2)": lambda a: [talib.EMA(a["close"], 2)],
    "dema(10)": lambda a: [talib.DEMA(a["close"], 10)],
    "tema(10)": lambda a: [talib.TEMA(a["close"], 10)],
    "wma(15)": lambda a: [talib.WMA(a["close"], 15)],
    "trima(10)": lambda a: [talib.TRIMA(a["close"], 10)],
    "trima(11)": lambda a: [talib.TRIMA(a["close"], 11)],
    "var(10)": lambda a: [talib.VAR(a["close"], 10)],
    "stddev(10,2)": lambda a: [talib.STDDEV(a["close"], 10, 2)],
    "bbands(20,2,2)": lambda a: list(talib.BBANDS(a["close"], 20, 2, 2)),
    "bbands(5,1.5,2.5)": lambda a: list(talib.BBANDS(a["close"], 5, 1.5, 2.5)),
    "rsi(14)": lambda a: [talib.RSI(a["close"], 14)],
    "rsi(2)": lambda a: [talib.RSI(a["close"], 2)],
    "macd(12,26,9)": lambda a: list(talib.MACD(a["close"], 12, 26, 9)),
    "macd(5,35,5)": lambda a: list(talib.MACD(a["close"], 5, 35, 5)),
    "trange": lambda a: [talib.TRANGE(a["high"], a["low"], a["close"])],
    "atr(14)": lambda a: [talib.ATR(a["high"], a["low"], a["close"], 14)],
    "natr(14)": lambda a: [talib.NATR(a["high"], a["low"], a["close"], 14)],
    "stoch(14,3,3)": lambda a: list(talib.STOCH(a["high"], a["low"], a["close"], 14, 3, 0, 3, 0)),
    "stoch": lambda a: list(talib.STOCH(a["high"], a["low"], a["close"])),
    "stochf(14,3)": lambda a: list(talib.STOCHF(a["high"], a["low"], a["close"], 14, 3, 0)),
    "obv": lambda a: [talib.OBV(a["close"], a["volume"])],
    "mom(10)": lambda a: [talib.MOM(a["close"], 10)],
    "roc(10)": lambda a: [talib.ROC(a["close"], 10)],
    "rocp(10)": lambda a: [talib.ROCP(a["close"], 10)],
    "rocr(10)": lambda a: [talib.ROCR(a["close"], 10)],
    "rocr100(10)": lambda a: [talib.ROCR100(a["close"], 10)],
}
REAL = real_bars()


@pytest.mark.parametrize("call", sorted(CASES))
@pytest.mark.parametrize("series", sorted(REAL))
def test_equals_talib_on_real_data(call: str, series: str) -> None:
    assert_matches_talib(REAL[series], call, CASES[call])  # type: ignore[arg-type]


@pytest.mark.parametrize("call", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_talib_on_random_data(call: str, seed: int) -> None:
    assert_matches_talib(random_bars(seed=seed), call, CASES[call])  # type: ignore[arg-type]


def test_zscore_against_its_definition() -> None:
    frame = random_bars(500)
    close = frame.get_column("close").to_numpy()
    from cift.features.engine import compute
    from cift.features.spec import parse_call

    ours = compute(frame, [parse_call("zscore(20)")]).get_column("zscore").to_numpy()
    expected = (close - talib.SMA(close, 20)) / talib.STDDEV(close, 20, 1)
    np.testing.assert_allclose(ours[19:], expected[19:], rtol=1e-9)
    assert np.isnan(ours[:19]).all()
