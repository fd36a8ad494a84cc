"""Fixed-width fractional differentiation against the C16 vectors and AFML snippet 5.3."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cift.core.errors import ValidationError
from cift.features.engine import compute
from cift.features.kernels.transforms import ffd_weights
from cift.features.spec import parse_call
from tests.budget import deep
from tests.features.reference import real_bars


def afml_weights(d: float, thres: float) -> np.ndarray:
    """AFML snippet 5.3 getWeights_FFD, oldest weight first."""
    w, k = [1.0], 1
    while True:
        w_ = -w[-1] / k * (d - k + 1)
        if abs(w_) < thres:
            break
        w.append(w_)
        k += 1
    return np.array(w[::-1]).reshape(-1, 1)


def afml_frac_diff_ffd(series: pd.Series, d: float, thres: float) -> pd.Series:
    """AFML snippet 5.3 fracDiff_FFD on one column: forward-fill, skip missing rows."""
    w = afml_weights(d, thres)
    width = len(w) - 1
    filled = series.ffill().dropna()
    out = pd.Series(np.nan, index=series.index)
    for iloc1 in range(width, filled.shape[0]):
        loc0, loc1 = filled.index[iloc1 - width], filled.index[iloc1]
        if not np.isfinite(series.loc[loc1]):
            continue
        out.loc[loc1] = float(np.dot(w.T, filled.loc[loc0:loc1])[0])
    return out


def gamma_sign(x: float) -> float:
    """The sign of Γ(x) for x not a non-positive integer: (-1)^n on (-n, -n + 1)."""
    return 1.0 if x > 0 else (-1.0) ** (math.floor(-x) + 1)


def binomial_weight(d: float, k: int) -> float:
    """(-1)^k · C(d, k) from the Gamma function: Γ(k - d) / (Γ(k + 1) Γ(-d))."""
    sign = gamma_sign(k - d) * gamma_sign(-d)
    return sign * math.exp(math.lgamma(k - d) - math.lgamma(k + 1) - math.lgamma(-d))


def ffd(values: list[float] | np.ndarray, call: str) -> np.ndarray:
    frame = pl.DataFrame({"close": np.asarray(values, dtype=float)})
    return compute(frame, [parse_call(call)]).get_column("ffd").to_numpy()


def test_c16_weights_and_worked_example() -> None:
    np.testing.assert_array_equal(
        ffd_weights(0.5, 1e-9)[:6], [1, -0.5, -0.125, -0.0625, -0.0390625, -0.02734375]
    )
    np.testing.assert_array_equal(ffd_weights(0.5, 0.1), [1, -0.5, -0.125])
    out = ffd([100, 101, 102, 101, 103], "ffd(0.5, 0.1)")
    assert np.isnan(out[:2]).all()
    np.testing.assert_allclose(out[2:], [39.0, 37.375, 39.75], rtol=1e-12)


@pytest.mark.parametrize(("d", "threshold", "last_k"), [(0.5, 1e-5, 926), (0.4, 1e-4, 281)])
def test_window_widths_of_the_reference(d: float, threshold: float, last_k: int) -> None:
    assert len(ffd_weights(d, threshold)) == last_k + 1


@pytest.mark.parametrize("d", [0.1, 0.35, 0.5, 0.75, 1.3])
def test_weights_equal_the_binomial_series(d: float) -> None:
    ours = ffd_weights(d, 1e-6)
    expected = [binomial_weight(d, k) for k in range(len(ours))]
    np.testing.assert_allclose(ours, expected, rtol=1e-9)  # lgamma of ~3e4 loses digits
    np.testing.assert_allclose(ours, afml_weights(d, 1e-6)[::-1, 0], rtol=1e-12)


def test_integer_orders_are_ordinary_differences() -> None:
    x = np.cumsum(np.random.default_rng(1).normal(size=50)) + 100
    np.testing.assert_array_equal(ffd_weights(1.0, 1e-4), [1.0, -1.0])
    np.testing.assert_allclose(ffd(x, "ffd(1, 1e-4)")[1:], np.diff(x), rtol=1e-12)
    np.testing.assert_array_equal(ffd(x, "ffd(0, 1e-4)"), x)
    np.testing.assert_allclose(ffd(x, "ffd(2, 1e-4)")[2:], np.diff(x, 2), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("name", "d", "threshold"), [("nvda-daily", 0.4, 1e-3), ("6e-minute", 0.35, 1e-4)]
)
def test_real_log_prices_equal_afml_snippet(name: str, d: float, threshold: float) -> None:
    """Over at most 5,000 rows (each value reads only its window; the snippet's row loop
    takes 14 s over the 30,000 minutes)."""
    bars = real_bars()[name].head(5_000).with_columns(pl.col("close").log())
    ours = compute(bars, [parse_call(f"ffd({d}, {threshold})")]).get_column("ffd").to_numpy()
    expected = afml_frac_diff_ffd(pd.Series(bars.get_column("close").to_numpy()), d, threshold)
    known = ~np.isnan(expected.to_numpy())
    assert known.sum() > 1_000
    assert np.array_equal(np.isnan(ours), ~known)
    np.testing.assert_allclose(ours[known], expected.to_numpy()[known], rtol=1e-10)


def test_missing_values_follow_the_snippet() -> None:
    x = np.array([np.nan, np.nan, 10, 11, np.nan, 12, 11.5, np.nan, np.nan, 13, 12.5, 14.0])
    expected = afml_frac_diff_ffd(pd.Series(x), 0.6, 0.05).to_numpy()
    ours = ffd(x, "ffd(0.6, 0.05)")
    assert np.array_equal(np.isnan(ours), np.isnan(expected))
    assert (~np.isnan(ours)).sum() >= 3
    np.testing.assert_allclose(ours[~np.isnan(ours)], expected[~np.isnan(expected)], rtol=1e-12)


@settings(max_examples=deep(40), deadline=None)
@given(
    values=st.lists(st.floats(1, 1_000), min_size=1, max_size=60),
    d=st.floats(0.05, 1.5),
    threshold=st.sampled_from([1e-1, 1e-2, 1e-3]),
)
def test_equals_the_snippet_on_any_series(values: list[float], d: float, threshold: float) -> None:
    ours = ffd(values, f"ffd({d!r}, {threshold!r})")
    expected = afml_frac_diff_ffd(pd.Series(values), d, threshold).to_numpy()
    assert np.array_equal(np.isnan(ours), np.isnan(expected))
    known = ~np.isnan(expected)
    np.testing.assert_allclose(ours[known], expected[known], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ffd(-0.1)", "d must be at least 0"),
        ("ffd(0.5, 0)", "threshold must be at least"),
        ("ffd(0.5, 1e-11)", "needs more than 100,000 weights"),
    ],
)
def test_bad_parameters_are_explained(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_call(text)
