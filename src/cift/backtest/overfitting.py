"""Backtest overfitting: the probabilistic and the deflated Sharpe ratio, and the
probability of backtest overfitting.

Bailey and López de Prado (2012, 2014). The probabilistic Sharpe ratio (PSR) is the
probability that the true Sharpe ratio exceeds a benchmark, given the observed one, the
track record's length and its returns' skewness and kurtosis. The deflated Sharpe ratio
(DSR) is the PSR of the best of N trials against the Sharpe ratio the best of N trials
would show by luck alone: the expected maximum of N independent Sharpe estimates whose
variance is that of the trials' Sharpe ratios. A DSR below 0.95 says the best trial's
edge is not distinguishable from selection bias at 95% confidence. The probability of
backtest overfitting (PBO) is how often the trial that looks best on one half of the
history ranks in the lower half of the trials on the other half, over every way of
cutting the history into halves (Bailey, Borwein, López de Prado and Zhu, 2014).

Every Sharpe ratio here is per period (not annualised): the formulas count periods.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from statistics import NormalDist
from typing import Any

import numpy as np

from cift.core.errors import ValidationError

EULER_GAMMA = 0.5772156649015329
OVERFIT_BELOW = 0.95
"""A DSR under this flags the best trial as likely overfit."""

_NORMAL = NormalDist()


def moments(returns: np.ndarray) -> tuple[float, float]:
    """Skewness and (non-excess) kurtosis of ``returns``: population moments, so a
    normal sample has kurtosis near 3. NaN for fewer than two distinct values."""
    values = np.asarray(returns, dtype=float)
    if values.size < 2 or values.min() == values.max():
        return math.nan, math.nan
    centred = values - values.mean()
    m2 = float(np.mean(centred**2))
    skewness = float(np.mean(centred**3)) / m2**1.5
    kurtosis = float(np.mean(centred**4)) / m2**2
    return skewness, kurtosis


def per_period_sharpe(returns: np.ndarray) -> float:
    """Mean over sample deviation of ``returns`` (NaN when they do not vary)."""
    values = np.asarray(returns, dtype=float)
    if values.size < 2 or values.min() == values.max():
        return math.nan
    return float(values.mean() / values.std(ddof=1))


def probabilistic_sharpe_ratio(
    sharpe: float, benchmark: float, periods: int, skewness: float = 0.0, kurtosis: float = 3.0
) -> float:
    """P(true Sharpe > ``benchmark``) for an observed per-period ``sharpe`` over ``periods``
    returns with the given skewness and (non-excess) kurtosis."""
    if periods < 2:
        raise ValidationError(
            f"The probabilistic Sharpe ratio needs at least 2 returns, got {periods}."
        )
    if not all(map(math.isfinite, (sharpe, benchmark, skewness, kurtosis))):
        return math.nan
    spread = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    if spread <= 0.0:
        return math.nan
    z = (sharpe - benchmark) * math.sqrt(periods - 1) / math.sqrt(spread)
    return 0.5 * math.erfc(-z / math.sqrt(2.0))  # the normal CDF, exact far in the left tail


def expected_max_sharpe(trials: int, variance: float) -> float:
    """Expected maximum of ``trials`` independent per-period Sharpe estimates of zero mean
    and the given ``variance`` (the false-strategy theorem); 0 for a single trial."""
    if trials < 1:
        raise ValidationError(f"The number of trials must be at least 1, got {trials}.")
    if variance < 0 or not math.isfinite(variance):
        raise ValidationError(f"The variance of trial Sharpe ratios must be >= 0, got {variance}.")
    if trials == 1 or variance == 0.0:
        return 0.0
    first = _NORMAL.inv_cdf(1.0 - 1.0 / trials)
    second = _NORMAL.inv_cdf(1.0 - 1.0 / (trials * math.e))
    return math.sqrt(variance) * ((1.0 - EULER_GAMMA) * first + EULER_GAMMA * second)


@dataclass(frozen=True)
class Deflation:
    """The deflated Sharpe ratio of a selected trial, with what went into it."""

    sharpe: float
    """Per-period Sharpe ratio of the selected trial."""
    benchmark: float
    """Expected maximum per-period Sharpe of ``trials`` unskilled trials."""
    trials: int
    variance: float
    """Variance of the trials' per-period Sharpe ratios."""
    periods: int
    skewness: float
    kurtosis: float
    probabilistic: float
    """PSR against a zero Sharpe ratio (no correction for the number of trials)."""
    deflated: float

    @property
    def overfit(self) -> bool:
        """True when the DSR is below 0.95 (or undefined)."""
        return not self.deflated >= OVERFIT_BELOW

    def to_dict(self) -> dict[str, Any]:
        data = {
            k: v if not isinstance(v, float) or math.isfinite(v) else None
            for k, v in asdict(self).items()
        }
        return {**data, "overfit": self.overfit}


def deflated_sharpe_ratio(
    sharpe: float,
    trial_sharpes: Sequence[float] | np.ndarray,
    periods: int,
    skewness: float,
    kurtosis: float,
) -> Deflation:
    """DSR of a trial with per-period ``sharpe`` chosen among ``trial_sharpes`` (per
    period, every trial including the chosen one; non-finite ones are not counted)."""
    values = np.asarray(trial_sharpes, dtype=float)
    values = values[np.isfinite(values)]
    if not values.size:
        raise ValidationError("No trial has a finite Sharpe ratio; nothing to deflate.")
    variance = float(np.var(values, ddof=1)) if values.size > 1 else 0.0
    benchmark = expected_max_sharpe(int(values.size), variance)
    return Deflation(
        sharpe=sharpe,
        benchmark=benchmark,
        trials=int(values.size),
        variance=variance,
        periods=periods,
        skewness=skewness,
        kurtosis=kurtosis,
        probabilistic=probabilistic_sharpe_ratio(sharpe, 0.0, periods, skewness, kurtosis),
        deflated=probabilistic_sharpe_ratio(sharpe, benchmark, periods, skewness, kurtosis),
    )


@dataclass(frozen=True)
class Overfitting:
    """The probability of backtest overfitting (PBO) by combinatorially symmetric
    cross-validation, with the logits it counts."""

    probability: float
    """Share of the in-sample/out-of-sample partitions where the in-sample best trial
    ranks in the lower half out of sample."""
    logits: np.ndarray
    """λ = ln(ω / (1 - ω)) per partition, ω the best trial's out-of-sample rank / (N + 1)."""
    trials: int
    slices: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "probability": self.probability,
            "partitions": int(self.logits.size),
            "median_logit": float(np.median(self.logits)),
            "trials": self.trials,
            "slices": self.slices,
        }


def probability_of_backtest_overfitting(returns: np.ndarray, slices: int = 16) -> Overfitting:
    """PBO of choosing the best of the trials (Bailey, Borwein, López de Prado and Zhu,
    2014): ``returns`` is periods x trials. The periods are cut into ``slices``
    contiguous blocks; every half of them is once the in-sample set (C(S, S/2)
    partitions) and the rest the out-of-sample set; the trial with the best in-sample
    per-period Sharpe ratio is ranked among all trials out of sample."""
    values = np.asarray(returns, dtype=float)
    if values.ndim != 2 or values.shape[1] < 2:
        raise ValidationError("PBO needs a periods x trials matrix of at least two trials.")
    if slices < 2 or slices % 2 or values.shape[0] < 2 * slices:
        raise ValidationError(
            f"PBO needs an even number of slices (got {slices}) and at least two periods "
            f"per slice (got {values.shape[0]} periods)."
        )
    if not np.isfinite(values).all():
        raise ValidationError("PBO needs finite returns; fill or drop missing periods first.")
    blocks = np.array_split(np.arange(values.shape[0]), slices)
    count = np.array([b.size for b in blocks], dtype=float)
    first = np.array([values[b].sum(axis=0) for b in blocks])
    second = np.array([(values[b] ** 2).sum(axis=0) for b in blocks])
    chosen = np.array(
        [[s in c for s in range(slices)] for c in combinations(range(slices), slices // 2)],
        dtype=float,
    )
    inside = _sharpes(chosen, count, first, second)
    outside = _sharpes(1.0 - chosen, count, first, second)
    best = np.argmax(np.where(np.isfinite(inside), inside, -np.inf), axis=1)
    theirs = outside[np.arange(best.size), best]
    rank = 1 + (outside < theirs[:, None]).sum(axis=1)
    omega = rank / (values.shape[1] + 1.0)
    logits = np.log(omega / (1.0 - omega))
    return Overfitting(float(np.mean(logits <= 0)), logits, values.shape[1], slices)


def _sharpes(
    chosen: np.ndarray, count: np.ndarray, first: np.ndarray, second: np.ndarray
) -> np.ndarray:
    """Per-period Sharpe ratios (sample deviation) of each trial over each partition's
    blocks (rows of ``chosen``), from the blocks' sums and sums of squares."""
    n = chosen @ count
    mean = (chosen @ first) / n[:, None]
    variance = ((chosen @ second) - n[:, None] * mean**2) / (n[:, None] - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(variance > 0, mean / np.sqrt(np.maximum(variance, 0)), np.nan)
