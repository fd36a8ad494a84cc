"""Probabilistic and deflated Sharpe ratios: the paper's worked example, an independent
scipy implementation, a Monte Carlo check of the expected maximum, and their properties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cift.backtest.overfitting import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    moments,
    per_period_sharpe,
    probabilistic_sharpe_ratio,
    probability_of_backtest_overfitting,
)
from cift.core.errors import ValidationError
from tests.budget import deep

sharpes = st.floats(-0.5, 0.5)
periods = st.integers(2, 5_000)
skews = st.floats(-3.0, 3.0)


def kurtoses(skew: float) -> st.SearchStrategy[float]:
    """Kurtosis is at least 1 + skewness squared for any distribution."""
    return st.floats(1.0 + skew**2, 1.0 + skew**2 + 30.0)


def scipy_psr(sr: float, benchmark: float, n: int, skew: float, kurt: float) -> float:
    """Bailey & López de Prado (2012), eq. for PSR, written out with scipy."""
    spread = math.sqrt(1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2)
    return float(stats.norm.cdf((sr - benchmark) * math.sqrt(n - 1) / spread))


def scipy_sr0(trials: int, variance: float) -> float:
    """Bailey & López de Prado (2014), eq. (2): the expected maximum Sharpe ratio."""
    gamma = np.euler_gamma
    return math.sqrt(variance) * (
        (1 - gamma) * stats.norm.ppf(1 - 1 / trials)
        + gamma * stats.norm.ppf(1 - 1 / (trials * math.e))
    )


def test_the_papers_numerical_example() -> None:
    # Bailey & López de Prado (2014), section 5: 100 trials, annualised variance of their
    # Sharpe ratios 1/2, best annualised Sharpe 2.5 over 5 years of daily returns,
    # skewness -3, kurtosis 10 -> SR0 = 0.1132 per day and DSR = 0.9004.
    benchmark = expected_max_sharpe(100, 0.5 / 250)
    assert benchmark == pytest.approx(0.1132, abs=5e-5)
    dsr = probabilistic_sharpe_ratio(2.5 / math.sqrt(250), benchmark, 1250, -3.0, 10.0)
    assert dsr == pytest.approx(0.9004, abs=5e-5)


@settings(max_examples=deep(200), deadline=None)
@given(sharpes, sharpes, periods, skews, st.data())
def test_psr_matches_scipy(sr: float, benchmark: float, n: int, skew: float, data: st.DataObject):
    kurt = data.draw(kurtoses(skew))
    ours = probabilistic_sharpe_ratio(sr, benchmark, n, skew, kurt)
    assert ours == pytest.approx(scipy_psr(sr, benchmark, n, skew, kurt), abs=1e-12)


@settings(max_examples=deep(100), deadline=None)
@given(st.integers(2, 100_000), st.floats(1e-8, 1.0))
def test_expected_maximum_matches_scipy(trials: int, variance: float) -> None:
    ours = expected_max_sharpe(trials, variance)
    assert ours == pytest.approx(scipy_sr0(trials, variance), rel=1e-9)


@pytest.mark.parametrize(("trials", "error"), [(10, 0.05), (100, 0.02), (1000, 0.02)])
def test_expected_maximum_is_the_mean_maximum_of_normal_draws(trials: int, error: float) -> None:
    # The false-strategy theorem approximates E[max of N iid N(0, s^2)], closer as N grows.
    rng = np.random.default_rng(7)
    sigma = 0.05
    simulated = rng.normal(0.0, sigma, size=(4_000, trials)).max(axis=1).mean()
    assert expected_max_sharpe(trials, sigma**2) == pytest.approx(simulated, rel=error)


def test_deflating_trial_returns_matches_a_scipy_implementation() -> None:
    rng = np.random.default_rng(11)
    trials = rng.standard_t(5, size=(40, 1_500)) * 0.01 + rng.normal(0.0003, 0.0002, (40, 1))
    srs = trials.mean(axis=1) / trials.std(axis=1, ddof=1)
    best = trials[int(np.argmax(srs))]
    skew, kurt = stats.skew(best), stats.kurtosis(best, fisher=False)
    sr = float(srs.max())

    ours = deflated_sharpe_ratio(sr, srs, best.size, *moments(best))

    sr0 = scipy_sr0(40, float(np.var(srs, ddof=1)))
    assert ours.benchmark == pytest.approx(sr0, rel=1e-12)
    assert ours.skewness == pytest.approx(skew, rel=1e-12)
    assert ours.kurtosis == pytest.approx(kurt, rel=1e-12)
    assert ours.deflated == pytest.approx(scipy_psr(sr, sr0, best.size, skew, kurt), abs=1e-12)
    assert ours.probabilistic == pytest.approx(scipy_psr(sr, 0.0, best.size, skew, kurt))
    assert ours.trials == 40
    assert ours.deflated < ours.probabilistic


@settings(max_examples=deep(200), deadline=None)
@given(sharpes, periods, skews, st.data())
def test_psr_is_one_half_at_the_benchmark(sr: float, n: int, skew: float, data: st.DataObject):
    kurt = data.draw(kurtoses(skew))
    assert probabilistic_sharpe_ratio(sr, sr, n, skew, kurt) == 0.5


@settings(max_examples=deep(100), deadline=None)
@given(st.floats(0.01, 0.1), st.integers(50, 1_000), st.floats(1e-4, 1e-2))
def test_dsr_falls_as_the_number_of_trials_rises(sr: float, n: int, variance: float) -> None:
    values = [
        probabilistic_sharpe_ratio(sr, expected_max_sharpe(trials, variance), n)
        for trials in (1, 2, 5, 10, 100, 1_000, 10_000)
    ]
    assert values[0] == probabilistic_sharpe_ratio(sr, 0.0, n)
    assert all(later < earlier for earlier, later in itertools.pairwise(values))


@settings(max_examples=deep(100), deadline=None)
@given(st.floats(0.01, 0.1), st.integers(10, 500))
def test_a_longer_track_record_raises_the_psr_of_a_positive_edge(sr: float, n: int) -> None:
    assert probabilistic_sharpe_ratio(sr, 0.0, 2 * n) > probabilistic_sharpe_ratio(sr, 0.0, n)


def test_fat_left_tails_lower_the_psr() -> None:
    normal = probabilistic_sharpe_ratio(0.1, 0.0, 500, 0.0, 3.0)
    assert probabilistic_sharpe_ratio(0.1, 0.0, 500, -2.0, 12.0) < normal


def test_moments_and_sharpe_match_scipy_and_numpy() -> None:
    returns = np.random.default_rng(3).lognormal(0.0, 0.3, 700) - 1.0
    skew, kurt = moments(returns)
    assert skew == pytest.approx(stats.skew(returns), rel=1e-12)
    assert kurt == pytest.approx(stats.kurtosis(returns, fisher=False), rel=1e-12)
    assert per_period_sharpe(returns) == pytest.approx(returns.mean() / returns.std(ddof=1))
    assert all(math.isnan(v) for v in (*moments(np.full(5, 0.01)), per_period_sharpe(np.ones(3))))


def test_one_trial_is_not_deflated() -> None:
    result = deflated_sharpe_ratio(0.08, [0.08, math.nan], 1000, 0.0, 3.0)
    assert result.trials == 1
    assert result.benchmark == 0.0
    assert result.deflated == result.probabilistic
    assert not result.overfit
    assert result.to_dict()["overfit"] is False


def test_a_lucky_best_of_many_is_flagged() -> None:
    rng = np.random.default_rng(5)
    trials = rng.normal(0.0, 0.01, size=(200, 250))  # no edge anywhere
    srs = trials.mean(axis=1) / trials.std(axis=1, ddof=1)
    best = trials[int(np.argmax(srs))]
    result = deflated_sharpe_ratio(float(srs.max()), srs, best.size, *moments(best))
    assert result.probabilistic > 0.95  # taken alone, the best looks significant
    assert result.overfit


def test_bad_inputs_are_validation_errors() -> None:
    with pytest.raises(ValidationError, match="at least 2 returns"):
        probabilistic_sharpe_ratio(0.1, 0.0, 1)
    with pytest.raises(ValidationError, match="at least 1"):
        expected_max_sharpe(0, 0.1)
    with pytest.raises(ValidationError, match=">= 0"):
        expected_max_sharpe(10, -1.0)
    with pytest.raises(ValidationError, match="finite Sharpe"):
        deflated_sharpe_ratio(0.1, [math.nan], 100, 0.0, 3.0)
    assert math.isnan(probabilistic_sharpe_ratio(math.nan, 0.0, 100))


def reference_pbo(returns: np.ndarray, slices: int) -> tuple[float, list[float]]:
    """CSCV as the paper states it, one partition and one trial at a time."""
    periods, trials = returns.shape
    blocks = np.array_split(np.arange(periods), slices)
    logits = []
    for chosen in itertools.combinations(range(slices), slices // 2):
        inside = np.concatenate([blocks[i] for i in chosen])
        outside = np.concatenate([blocks[i] for i in range(slices) if i not in chosen])

        def sharpe(rows: np.ndarray, n: int) -> float:
            values = returns[rows, n]
            return float(values.mean() / values.std(ddof=1))

        best = max(range(trials), key=lambda n: sharpe(inside, n))
        out = [sharpe(outside, n) for n in range(trials)]
        rank = 1 + sum(1 for n in range(trials) if out[n] < out[best])
        omega = rank / (trials + 1)
        logits.append(math.log(omega / (1 - omega)))
    return float(np.mean(np.array(logits) <= 0)), logits


@settings(max_examples=deep(40), deadline=None)
@given(
    st.integers(0, 10_000),
    st.integers(24, 90),
    st.integers(2, 6),
    st.sampled_from([2, 4, 6]),
)
def test_pbo_equals_the_papers_procedure(seed: int, periods: int, trials: int, slices: int) -> None:
    returns = np.random.default_rng(seed).normal(0.0, 0.01, (periods, trials))
    found = probability_of_backtest_overfitting(returns, slices)
    expected, logits = reference_pbo(returns, slices)
    assert found.probability == expected
    np.testing.assert_allclose(found.logits, logits, rtol=1e-9)
    assert found.logits.size == math.comb(slices, slices // 2)


def test_pbo_is_a_coin_flip_for_noise_and_zero_for_a_real_edge() -> None:
    rng = np.random.default_rng(11)
    noise = rng.normal(0.0, 0.01, (2_000, 20))
    assert 0.3 < probability_of_backtest_overfitting(noise).probability < 0.7
    edged = noise.copy()
    edged[:, 7] += 0.004  # a Sharpe of 0.4 per period against none
    assert probability_of_backtest_overfitting(edged).probability == 0.0


def test_pbo_refuses_what_it_cannot_measure() -> None:
    with pytest.raises(ValidationError, match="at least two trials"):
        probability_of_backtest_overfitting(np.zeros((100, 1)))
    with pytest.raises(ValidationError, match="even number of slices"):
        probability_of_backtest_overfitting(np.zeros((100, 3)), slices=5)
    with pytest.raises(ValidationError, match="finite returns"):
        probability_of_backtest_overfitting(np.full((100, 3), np.nan))
