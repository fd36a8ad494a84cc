"""Sample weights by average label uniqueness, against AFML's definition bar by bar."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cift.ml.weights import average_uniqueness, uniqueness_weights
from tests.budget import deep


def reference(symbols: list[str], start: list[int], end: list[int]) -> list[float]:
    """AFML §4.4: c_t counts the labels of the symbol spanning bar t; u_i is the mean of
    1/c_t over the bars of label i."""
    out = []
    for s, a, b in zip(symbols, start, end, strict=True):
        shares = []
        for t in range(a, b + 1):
            c = sum(
                1
                for s2, a2, b2 in zip(symbols, start, end, strict=True)
                if s2 == s and a2 <= t <= b2
            )
            shares.append(1 / c)
        out.append(sum(shares) / len(shares))
    return out


@st.composite
def every_bar_labelled(draw: st.DrawFn) -> tuple[list[str], list[int], list[int]]:
    """As datasets label: each symbol's every bar starts a label of 0-15 bars."""
    symbols, start, end = [], [], []
    for name in draw(st.lists(st.sampled_from("ABC"), min_size=1, max_size=3, unique=True)):
        bars = draw(st.integers(1, 40))
        for t in range(bars):
            symbols.append(name)
            start.append(t)
            end.append(min(t + draw(st.integers(0, 15)), bars - 1))
    return symbols, start, end


@settings(max_examples=deep(80), deadline=None)
@given(every_bar_labelled())
def test_uniqueness_matches_the_definition(rows: tuple[list[str], list[int], list[int]]) -> None:
    symbols, start, end = rows
    got = average_uniqueness(np.array(symbols), np.array(start), np.array(end))
    np.testing.assert_allclose(got, reference(symbols, start, end), rtol=1e-12)
    assert ((got > 0) & (got <= 1)).all()
    weights = uniqueness_weights(np.array(symbols), np.array(start), np.array(end))
    np.testing.assert_allclose(weights.mean(), 1.0)


def test_disjoint_labels_are_fully_unique_and_overlap_halves_them() -> None:
    symbols = np.array(["A", "A", "B", "B"])
    start, end = np.array([0, 0, 0, 5]), np.array([3, 3, 3, 8])
    np.testing.assert_allclose(average_uniqueness(symbols, start, end), [0.5, 0.5, 1.0, 1.0])
