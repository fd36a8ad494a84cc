"""Purged K-fold, CPCV and walk-forward splits: no leakage, and the published definitions.

The reference below follows López de Prado, *Advances in Financial Machine Learning*
(2018), §7.4 and §12.4, one observation at a time: a training observation is purged
when its label interval overlaps any test observation's; after each test group, the
observations starting within the next ``int(embargo * T)`` times following that group's
last label end are embargoed (T distinct times); groups are consecutive runs of times.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cift.core.errors import ValidationError
from cift.ml.validation import (
    Intervals,
    backtest_paths,
    combinatorial_purged,
    path_count,
    purged_kfold,
    walk_forward_splits,
)
from tests.budget import deep


def reference_splits(
    t0: list[int], t1: list[int], n_groups: int, k: int, embargo: float
) -> list[tuple[list[int], list[int]]]:
    times = sorted(set(t0))
    size, extra = divmod(len(times), n_groups)
    group_of: dict[int, int] = {}
    position = 0
    for g in range(n_groups):
        count = size + (1 if g < extra else 0)
        for time in times[position : position + count]:
            group_of[time] = g
        position += count
    h = int(embargo * len(times))
    out = []
    for chosen in combinations(range(n_groups), k):
        test = [i for i in range(len(t0)) if group_of[t0[i]] in chosen]
        embargoed: set[int] = set()
        for g in chosen:
            reach = max(t1[j] for j in test if group_of[t0[j]] == g)
            embargoed.update([t for t in times if t > reach][:h])
        train = [
            i
            for i in range(len(t0))
            if i not in test
            and not any(t0[i] <= t1[j] and t0[j] <= t1[i] for j in test)
            and t0[i] not in embargoed
        ]
        out.append((train, test))
    return out


@st.composite
def labelled_rows(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Observations of a few symbols: shared times, labels of random lengths."""
    n_times = draw(st.integers(12, 60))
    symbols = draw(st.integers(1, 3))
    t0, t1 = [], []
    for s in range(symbols):
        for t in range(n_times):
            if draw(st.booleans()) or s == 0:
                t0.append(t * 10)
                t1.append(t * 10 + draw(st.integers(0, 60)))
    return t0, t1


def _intervals(t0: list[int], t1: list[int]) -> Intervals:
    return Intervals(np.array(t0, dtype=np.int64), np.array(t1, dtype=np.int64))


def _overlaps(iv: Intervals, train: np.ndarray, test: np.ndarray) -> bool:
    a0, a1 = iv.start[train][:, None], iv.end[train][:, None]
    b0, b1 = iv.start[test][None, :], iv.end[test][None, :]
    return bool(np.any((a0 <= b1) & (b0 <= a1)))


@settings(max_examples=deep(60), deadline=None)
@given(
    labelled_rows(),
    st.integers(2, 6),
    st.integers(1, 3),
    st.sampled_from([0.0, 0.05, 0.2]),
)
def test_cpcv_equals_the_reference_and_never_trains_on_an_overlapping_label(
    rows: tuple[list[int], list[int]], n_groups: int, k: int, embargo: float
) -> None:
    k = min(k, n_groups - 1)
    t0, t1 = rows
    iv = _intervals(t0, t1)
    splits = combinatorial_purged(iv, n_groups, k, embargo)
    assert len(splits) == math.comb(n_groups, k)
    reference = reference_splits(t0, t1, n_groups, k, embargo)
    for split, (train, test) in zip(splits, reference, strict=True):
        assert split.train.tolist() == train
        assert split.test.tolist() == test
        assert not _overlaps(iv, split.train, split.test)
        assert not set(split.train) & set(split.test)


@settings(max_examples=deep(40), deadline=None)
@given(labelled_rows(), st.integers(2, 8), st.sampled_from([0.0, 0.1]))
def test_purged_kfold_tests_every_row_once(
    rows: tuple[list[int], list[int]], n_splits: int, embargo: float
) -> None:
    t0, t1 = rows
    iv = _intervals(t0, t1)
    splits = purged_kfold(iv, n_splits, embargo)
    tested = np.concatenate([s.test for s in splits])
    assert sorted(tested.tolist()) == list(range(len(t0)))
    for split, (train, _) in zip(
        splits, reference_splits(t0, t1, n_splits, 1, embargo), strict=True
    ):
        assert split.train.tolist() == train
        times = iv.start[split.test]
        others = np.delete(iv.start, split.test)
        # a fold is one contiguous run of the timeline
        assert not np.any((others > times.min()) & (others < times.max()))


@pytest.mark.parametrize(("n", "k"), [(6, 2), (10, 2), (8, 3), (5, 1), (12, 4)])
def test_cpcv_paths_use_each_split_k_times_and_cover_every_group(n: int, k: int) -> None:
    paths = backtest_paths(n, k)
    assert paths.shape == (path_count(n, k), n)
    assert path_count(n, k) == k * math.comb(n, k) // n  # φ[N, k] = k/N · C(N, k)
    chosen = list(combinations(range(n), k))
    for g in range(n):
        column = paths[:, g]
        assert len(set(column)) == len(column)  # one split per path for each group
        assert all(g in chosen[s] for s in column)
    counts = np.bincount(paths.ravel(), minlength=len(chosen))
    assert (counts == k).all()


def test_walk_forward_trains_only_on_labels_settled_before_the_test() -> None:
    t0 = np.arange(0, 1_000, 10, dtype=np.int64)
    iv = Intervals(t0, t0 + 35)
    rolling = walk_forward_splits(iv, 30, 10)
    anchored = walk_forward_splits(iv, 30, 10, anchored=True)
    assert len(rolling) == len(anchored) == 7
    for split in (*rolling, *anchored):
        assert iv.end[split.train].max() < iv.start[split.test].min()
    # 30 bars in the window, the last 3 purged: their labels (35 ns) reach the test
    assert [s.train.size for s in rolling] == [27] * 7
    assert [s.train.size for s in anchored] == [27 + 10 * i for i in range(7)]
    assert anchored[-1].train[0] == rolling[0].train[0] == 0
    assert [s.test.size for s in rolling] == [10] * 7


def test_bad_settings_are_explained() -> None:
    iv = _intervals([0, 10, 20], [5, 15, 25])
    with pytest.raises(ValidationError, match="3 distinct times cannot make 4 groups"):
        purged_kfold(iv, 4)
    with pytest.raises(ValidationError, match="fewer than the 3 groups"):
        combinatorial_purged(iv, 3, 3)
    with pytest.raises(ValidationError, match="embargo"):
        purged_kfold(iv, 2, embargo=0.7)
    with pytest.raises(ValidationError, match="ends before it starts"):
        _intervals([0, 10], [5, 5])
    with pytest.raises(ValidationError, match="use fewer groups"):
        backtest_paths(40, 20)
