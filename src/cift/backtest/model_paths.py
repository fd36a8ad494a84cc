"""A model's CPCV backtest paths, judged for overfitting (AFML §12, Bailey et al. 2014).

Combinatorial purged cross-validation gives φ paths, each an out-of-sample score for
every row of the dataset. For each entry ``edge`` of a grid (the trials), a row is a
long bet when the model's score clears it: above the label's break-even probability
plus the edge for classifiers, above ``edge`` standard deviations of the scores for
regressors. A bet earns the label's return (``fwd_ret``, the triple-barrier or forward
return it was trained on); a day's return is the mean over that day's rows, bets and
abstentions (0) alike. The mean of the paths is one return series per trial, on which
the best trial is chosen; the report gives the spread of that trial's Sharpe ratio over
the paths, its deflated Sharpe ratio among the trials, and the probability of backtest
overfitting of choosing it.
"""

from __future__ import annotations

import math

import numpy as np
from loguru import logger

from cift.backtest.overfitting import (
    deflated_sharpe_ratio,
    moments,
    per_period_sharpe,
    probability_of_backtest_overfitting,
)
from cift.ml.crossval import CrossValidation, Matrix
from cift.ml.labelling import LabelSpec

EDGES = (0.0, 0.01, 0.02, 0.05, 0.1)
NS_PER_DAY = 86_400_000_000_000
MAX_SLICES = 16


def daily_bet_returns(
    cv: CrossValidation, matrix: Matrix, label: LabelSpec, edges: tuple[float, ...] = EDGES
) -> np.ndarray:
    """``returns[path, day, trial]``: each path's mean bet return per UTC day."""
    scores = cv.path_scores()
    day = (matrix.ts // NS_PER_DAY).astype(np.int64)
    codes = np.unique(day, return_inverse=True)[1]
    days = int(codes.max()) + 1
    rows = np.bincount(codes, minlength=days).astype(float)
    if cv.model_type.classifies:
        levels = [label.breakeven + e for e in edges]
    else:
        spread = float(np.nanstd(scores))
        levels = [e * spread for e in edges]
    out = np.empty((scores.shape[0], days, len(edges)))
    for k, level in enumerate(levels):
        bets = np.where(scores > level, matrix.fwd_ret[None, :], 0.0)
        for p in range(scores.shape[0]):
            out[p, :, k] = np.bincount(codes, weights=bets[p], minlength=days) / rows
    return out


def path_report(
    cv: CrossValidation, matrix: Matrix, label: LabelSpec, edges: tuple[float, ...] = EDGES
) -> dict[str, float]:
    """``cpcv_*`` metrics: the best edge, its path Sharpe ratios (per day; mean, std,
    min), its deflated Sharpe ratio among the edges and the PBO of choosing it."""
    returns = daily_bet_returns(cv, matrix, label, edges)
    days = returns.shape[1]
    slices = min(MAX_SLICES, days // 2 - (days // 2) % 2)
    mean = returns.mean(axis=0)
    trial_sharpes = np.array([per_period_sharpe(mean[:, k]) for k in range(len(edges))])
    unjudged = {"cpcv_paths": float(returns.shape[0]), "cpcv_dsr": math.nan, "cpcv_pbo": math.nan}
    if slices < 2 or not np.isfinite(trial_sharpes).any():
        reason = f"they span {days} days (4 needed)" if slices < 2 else "no edge made a bet"
        logger.warning("CPCV paths not judged for overfitting: {}", reason)
        return unjudged
    best = int(np.nanargmax(trial_sharpes))
    paths = np.array([per_period_sharpe(returns[p, :, best]) for p in range(returns.shape[0])])
    skewness, kurtosis = moments(mean[:, best])
    deflation = deflated_sharpe_ratio(trial_sharpes[best], trial_sharpes, days, skewness, kurtosis)
    overfitting = probability_of_backtest_overfitting(mean, slices)
    finite = paths[np.isfinite(paths)]
    return {
        "cpcv_best_edge": float(edges[best]),
        "cpcv_paths": float(returns.shape[0]),
        "cpcv_path_sharpe_mean": float(finite.mean()) if finite.size else math.nan,
        "cpcv_path_sharpe_std": float(finite.std(ddof=1)) if finite.size > 1 else math.nan,
        "cpcv_path_sharpe_min": float(finite.min()) if finite.size else math.nan,
        "cpcv_dsr": deflation.deflated,
        "cpcv_pbo": overfitting.probability,
    }
