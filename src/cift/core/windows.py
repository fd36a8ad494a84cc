"""Train/test windows over a timeline: rolling or anchored, by bar counts or durations.

Walk-forward optimisation (``backtest.walkforward``) and walk-forward model validation
(``ml.validation``) cut their data the same way: each window is an in-sample (train)
span followed by an out-of-sample (test) span; rolling windows slide by the test length,
anchored ones keep the first bar and grow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from cift.core.errors import ValidationError

DURATION = re.compile(r"^\d+(ns|us|ms|s|m|h|d|w|mo|q|y)$")

Length = int | str
"""Bars (an int) or a calendar duration such as ``"3y"`` or ``"6mo"``."""


def parse_length(text: str, option: str) -> Length:
    """``"750"`` -> 750 bars; ``"3y"`` -> a duration (Polars offset syntax)."""
    value = text.strip().lower()
    if value.isdigit():
        if int(value) < 1:
            raise ValidationError(f"{option} must be at least 1 bar.")
        return int(value)
    if DURATION.match(value) and int(re.sub(r"\D", "", value)) > 0:
        return value
    raise ValidationError(
        f"{option} {text!r} is neither a bar count (750) nor a duration (3y, 6mo, 12w, 90d)."
    )


@dataclass(frozen=True)
class Window:
    """Bar open times (ns): train on ``[train_start, train_end)``, test on
    ``[train_end, test_end)``; ``first``/``last`` are the bars each span holds."""

    index: int
    train_start: int
    train_end: int
    test_end: int
    train_bars: tuple[int, int, int]
    """First and last bar open time of the train span, and its number of bars."""
    test_bars: tuple[int, int, int]

    def to_dict(self) -> dict[str, Any]:
        (a, b, n), (c, d, m) = self.train_bars, self.test_bars
        return {
            "index": self.index,
            "train_first": _iso(a),
            "train_last": _iso(b),
            "train_bars": n,
            "test_first": _iso(c),
            "test_last": _iso(d),
            "test_bars": m,
        }


def _iso(ns: int) -> str:
    return str(pl.Series([ns]).cast(pl.Datetime("ns", "UTC")).dt.to_string("%Y-%m-%d %H:%M")[0])


def _held(times: np.ndarray, start: int, end: int) -> bool:
    return bool(np.any((times >= start) & (times < end)))


def _bars(times: np.ndarray, start: int, end: int) -> tuple[int, int, int]:
    first, stop = np.searchsorted(times, [start, end])
    return int(times[first]), int(times[stop - 1]), int(stop - first)


def _offset(ns: int, duration: str) -> int:
    moved = pl.Series([ns]).cast(pl.Datetime("ns", "UTC")).dt.offset_by(duration)
    return int(moved.cast(pl.Int64)[0])


def windows(times: np.ndarray, train: Length, test: Length, anchored: bool) -> list[Window]:
    """Train/test windows over the sorted event ``times`` (ns); the last test span may
    be shorter than ``test``. Both lengths are bar counts, or both durations."""
    if isinstance(train, int) != isinstance(test, int):
        raise ValidationError("Give --train and --test both as bar counts or both as durations.")
    if isinstance(train, int) and isinstance(test, int):
        cuts = _counted(times.size, train, test, anchored)
        edge = np.append(times, times[-1] + 1) if times.size else times
        spans = [(edge[a], edge[b], edge[c]) for a, b, c in cuts]
    else:
        spans = _timed(times, str(train), str(test), anchored)
    if not spans:
        raise ValidationError(
            f"The data ({times.size} bars) is too short for a --train {train} window and "
            f"a --test {test} window after it; shorten them or load more data."
        )
    return [
        Window(i, int(a), int(b), int(c), _bars(times, a, b), _bars(times, b, c))
        for i, (a, b, c) in enumerate(spans)
    ]


def _counted(n: int, train: int, test: int, anchored: bool) -> list[tuple[int, int, int]]:
    cuts, start = [], 0
    while start + train < n:
        split = start + train
        cuts.append((0 if anchored else start, split, min(split + test, n)))
        start += test
    return cuts


def _timed(times: np.ndarray, train: str, test: str, anchored: bool) -> list[tuple[int, int, int]]:
    spans: list[tuple[int, int, int]] = []
    if not times.size:
        return spans
    first, last = int(times[0]), int(times[-1])
    start = first
    while True:
        split = _offset(start, train)
        if split > last:
            return spans
        end = _offset(split, test)
        end = min(end, last + 1)
        if _held(times, start, split) and _held(times, split, end):
            spans.append((first if anchored else start, split, end))
        start = _offset(start, test)
