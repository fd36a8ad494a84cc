"""Cross-validation that cannot leak through overlapping labels (AFML ch. 7 and 12).

Each row is an observation with a label interval ``[start, end]`` (ns, both ends
included: the bar a label is made at and the bar that settles it). Splits cut the
*timeline* (the sorted distinct start times), never a symbol's rows apart from the other
symbols' rows at the same time, into contiguous groups.

- **Purging**: a training row whose interval overlaps any test row's is dropped.
- **Embargo**: after each contiguous block of test groups, training rows starting in the
  next ``embargo`` fraction of the timeline are dropped too (serial correlation of the
  features outlives the labels).
- **Purged K-fold**: ``n_splits`` groups, each the test set once.
- **Combinatorial purged CV (CPCV)**: ``n_groups`` groups, every choice of
  ``n_test_groups`` as the test set: C(N, k) splits. Each group is tested in C(N-1, k-1)
  of them, so the out-of-sample predictions assemble into φ = C(N-1, k-1) complete
  backtest paths (:func:`backtest_paths`).
- **Walk-forward**: rolling or anchored windows of ``core.windows``; training rows whose
  label reaches into the test window are purged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import polars as pl

from cift.core.errors import ValidationError
from cift.core.windows import Length, windows

MAX_SPLITS = 10_000
"""CPCV grows as C(N, k); more splits than this is a mistake, not a plan."""


@dataclass(frozen=True)
class Split:
    """Row positions to train and to test on; ``groups`` are the test groups."""

    index: int
    train: np.ndarray
    test: np.ndarray
    groups: tuple[int, ...]


@dataclass(frozen=True)
class Intervals:
    """Each row's label interval, as int64 ns."""

    start: np.ndarray
    end: np.ndarray

    def __post_init__(self) -> None:
        if self.start.shape != self.end.shape:
            raise ValidationError("Label starts and ends differ in length.")
        if np.any(self.end < self.start):
            raise ValidationError("A label ends before it starts; check label_start/label_end.")

    @classmethod
    def of(
        cls, frame: pl.DataFrame, start: str = "label_start", end: str = "label_end"
    ) -> Intervals:
        """From a dataset frame's interval columns."""
        missing = [c for c in (start, end) if c not in frame.columns]
        if missing:
            raise ValidationError(f"The rows lack label interval column(s) {missing}.")
        return cls(_ns(frame.get_column(start)), _ns(frame.get_column(end)))

    @property
    def timeline(self) -> np.ndarray:
        return np.unique(self.start)


def _ns(column: pl.Series) -> np.ndarray:
    return column.cast(pl.Datetime("ns", "UTC")).cast(pl.Int64).to_numpy()


def time_groups(intervals: Intervals, n_groups: int) -> np.ndarray:
    """Each row's group: the timeline cut into ``n_groups`` contiguous runs of (nearly)
    equal numbers of distinct times, the first ones one time longer."""
    timeline = intervals.timeline
    if n_groups < 2:
        raise ValidationError(f"Cross-validation needs at least 2 groups, got {n_groups}.")
    if timeline.size < n_groups:
        raise ValidationError(
            f"{timeline.size} distinct times cannot make {n_groups} groups; use fewer or more data."
        )
    firsts = np.array([chunk[0] for chunk in np.array_split(timeline, n_groups)])
    return np.searchsorted(firsts, intervals.start, side="right") - 1


def purged_train(
    intervals: Intervals, test: np.ndarray, embargo: float, timeline: np.ndarray | None = None
) -> np.ndarray:
    """Rows outside ``test`` (a boolean mask) left after purging and the embargo."""
    timeline = intervals.timeline if timeline is None else timeline
    after = int(embargo * timeline.size)
    keep = ~test
    for first, last in _blocks(test, intervals, timeline):
        block = test & (intervals.start >= first) & (intervals.start <= last)
        reach = intervals.end[block].max()
        keep &= ~((intervals.start <= reach) & (intervals.end >= first))
        beyond = int(np.searchsorted(timeline, reach, side="right"))
        if after and beyond < timeline.size:
            limit = timeline[min(beyond + after, timeline.size) - 1]
            keep &= ~((intervals.start > reach) & (intervals.start <= limit))
    return np.flatnonzero(keep)


def _blocks(test: np.ndarray, intervals: Intervals, timeline: np.ndarray) -> list[tuple[int, int]]:
    """First and last start time of each contiguous run of test times on the timeline."""
    tested = np.isin(timeline, intervals.start[test])
    edges = np.diff(np.concatenate([[0], tested.astype(np.int8), [0]]))
    opens, closes = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(int(timeline[a]), int(timeline[b])) for a, b in zip(opens, closes, strict=True)]


def purged_kfold(intervals: Intervals, n_splits: int = 5, embargo: float = 0.01) -> list[Split]:
    """Purged K-fold with an embargo: each of ``n_splits`` time groups tested once."""
    return combinatorial_purged(intervals, n_splits, 1, embargo)


def combinatorial_purged(
    intervals: Intervals, n_groups: int = 6, n_test_groups: int = 2, embargo: float = 0.01
) -> list[Split]:
    """CPCV: every choice of ``n_test_groups`` of ``n_groups`` time groups as the test
    set, in lexicographic order of the groups, each with a purged, embargoed train set."""
    _check(n_groups, n_test_groups, embargo)
    group = time_groups(intervals, n_groups)
    timeline = intervals.timeline
    splits = []
    for index, chosen in enumerate(combinations(range(n_groups), n_test_groups)):
        test = np.isin(group, chosen)
        train = purged_train(intervals, test, embargo, timeline)
        splits.append(Split(index, train, np.flatnonzero(test), chosen))
    return splits


def _check(n_groups: int, n_test_groups: int, embargo: float) -> None:
    if not 1 <= n_test_groups < n_groups:
        raise ValidationError(
            f"Test groups must be at least 1 and fewer than the {n_groups} groups, "
            f"got {n_test_groups}."
        )
    if math.comb(n_groups, n_test_groups) > MAX_SPLITS:
        raise ValidationError(
            f"C({n_groups}, {n_test_groups}) = {math.comb(n_groups, n_test_groups):,} splits "
            f"is over {MAX_SPLITS:,}; use fewer groups."
        )
    if not (math.isfinite(embargo) and 0 <= embargo < 0.5):
        raise ValidationError(
            f"The embargo is a fraction of the timeline in [0, 0.5), not {embargo}."
        )


def path_count(n_groups: int, n_test_groups: int) -> int:
    """φ[N, k] = k/N · C(N, k) = C(N-1, k-1): the backtest paths CPCV yields."""
    return math.comb(n_groups - 1, n_test_groups - 1)


def backtest_paths(n_groups: int, n_test_groups: int) -> np.ndarray:
    """``paths[p, g]``: the split whose test predictions path ``p`` uses for group ``g``.
    Path ``p`` takes, for every group, the ``p``-th split (in split order) testing it."""
    _check(n_groups, n_test_groups, 0.0)
    tested_in: list[list[int]] = [[] for _ in range(n_groups)]
    for index, chosen in enumerate(combinations(range(n_groups), n_test_groups)):
        for g in chosen:
            tested_in[g].append(index)
    return np.array(tested_in, dtype=np.int64).T


def walk_forward_splits(
    intervals: Intervals, train: Length, test: Length, *, anchored: bool = False
) -> list[Split]:
    """Train on a window, test on the span after it; training rows whose label reaches
    the test span are purged (the train span precedes the test, so no embargo is due)."""
    timeline = intervals.timeline
    splits = []
    for window in windows(timeline, train, test, anchored):
        starts = intervals.start
        testing = (starts >= window.train_end) & (starts < window.test_end)
        inside = (starts >= window.train_start) & (starts < window.train_end)
        kept = inside & (intervals.end < window.train_end)
        splits.append(Split(window.index, np.flatnonzero(kept), np.flatnonzero(testing), ()))
    return splits
