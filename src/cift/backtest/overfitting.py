"""Backtest overfitting: the probabilistic and the deflated Sharpe ratio.

Bailey and López de Prado (2012, 2014). The probabilistic Sharpe ratio (PSR) is the
probability that the true Sharpe ratio exceeds a benchmark, given the observed one, the
track record's length and its returns' skewness and kurtosis. The deflated Sharpe ratio
(DSR) is the PSR of the best of N trials against the Sharpe ratio the best of N trials
would show by luck alone: the expected maximum of N independent Sharpe estimates whose
variance is that of the trials' Sharpe ratios. A DSR below 0.95 says the best trial's
edge is not distinguishable from selection bias at 95% confidence.

Every Sharpe ratio here is per period (not annualised): the formulas count periods.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
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
