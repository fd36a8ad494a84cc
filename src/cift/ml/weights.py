"""Sample weights by label uniqueness (AFML §4.4).

Labels that overlap in time share information, so a model trained on every bar of an
overlapping label sees the same outcome many times. A label's average uniqueness is the
mean, over the bars of its interval, of ``1 / c_t`` where ``c_t`` counts the labels of
the same symbol whose interval holds bar ``t``; it weighs each row by how much new
information it brings.
"""

from __future__ import annotations

import numpy as np


def average_uniqueness(symbols: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Each row's average uniqueness in (0, 1], among the rows given (the training rows).

    The bars of a symbol are the distinct start and end times of its rows: every bar
    when each bar is labelled, as datasets do."""
    out = np.empty(start.size, dtype=np.float64)
    codes, inverse = np.unique(symbols, return_inverse=True)
    for code in range(codes.size):
        rows = np.flatnonzero(inverse == code)
        first, last = start[rows], end[rows]
        bars = np.unique(np.concatenate([first, last]))
        a = np.searchsorted(bars, first)
        b = np.searchsorted(bars, last)
        concurrency = np.zeros(bars.size + 1, dtype=np.int64)
        np.add.at(concurrency, a, 1)
        np.add.at(concurrency, b + 1, -1)
        inverse_count = 1.0 / np.cumsum(concurrency)[:-1]
        running = np.concatenate([[0.0], np.cumsum(inverse_count)])
        out[rows] = (running[b + 1] - running[a]) / (b - a + 1)
    return out


def uniqueness_weights(symbols: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Average uniqueness scaled to a mean of 1 (so learning rates keep their meaning)."""
    weights = average_uniqueness(symbols, start, end)
    return weights / weights.mean() if weights.size else weights
