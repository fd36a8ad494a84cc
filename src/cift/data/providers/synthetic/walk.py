"""Seeded random streams and the daily walk that carries a symbol's price across days.

Every random number comes from a stream keyed by (seed, symbol, purpose, index), so a
day's path never depends on which request asked for it. The daily walk draws its shocks
in fixed blocks of days counted from 1970-01-01 and runs a GARCH(1,1) recursion over
calendar days: it gives each day its opening gap, its open-to-close return and its
variance level, cheaply enough to recompute for decades.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from cift.core.jit import njit

from .config import SimulatorConfig, symbol_key

BLOCK_DAYS = 4096
"""Days of daily shocks drawn from one stream."""
WEEKEND_WEIGHT = 0.1
"""Variance of a day outside the calendar's weekmask, relative to a weekday's."""
DAILY, PATH, SIZES, BOOK = 0, 1, 2, 3
"""Stream purposes: daily shocks, a day's price path, its trade sizes, its quote sizes."""
THURSDAY = 3  # 1970-01-01, day 0, was a Thursday (Monday is 0)


def stream(seed: int, symbol: str, purpose: int, index: int) -> np.random.Generator:
    """The Philox stream for one purpose and index (a day or a block) of a symbol."""
    sequence = np.random.SeedSequence(seed, spawn_key=(symbol_key(symbol), purpose, index))
    return np.random.Generator(np.random.Philox(sequence))


def unit_t(rng: np.random.Generator, df: float, size: int) -> np.ndarray:
    """Student-t draws scaled to unit variance."""
    return rng.standard_t(df, size) * math.sqrt((df - 2.0) / df)


@njit(nogil=True)
def garch_levels(shocks: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """Variance multipliers (mean 1) of a GARCH(1,1) driven by unit-variance shocks."""
    levels = np.empty(shocks.shape[0])
    level = 1.0
    for i in range(shocks.shape[0]):
        levels[i] = level
        level = (1.0 - alpha - beta) + (alpha * shocks[i] * shocks[i] + beta) * level
    return levels


@dataclass(frozen=True)
class DailyWalk:
    """Per calendar day since 1970-01-01: log-price moves and variance, for one symbol."""

    gap: np.ndarray  # log move from the previous day's close to this day's open
    intraday: np.ndarray  # log move from this day's open to its close
    close: np.ndarray  # cumulative log move up to this day's close
    level: np.ndarray  # GARCH variance multiplier of the day (mean 1)
    intraday_variance: np.ndarray  # variance of the open-to-close log move

    def open_level(self, day: int, anchor: int, price: float) -> float:
        """Log price at the day's open, where the close before ``anchor`` is ``price``."""
        return self._level(day - 1, anchor, price) + float(self.gap[day])

    def _level(self, day: int, anchor: int, price: float) -> float:
        before = float(self.close[day]) if day >= 0 else 0.0
        base = float(self.close[anchor - 1]) if anchor >= 1 else 0.0
        return math.log(price) + before - base


def day_weights(days: int, weekmask: str) -> np.ndarray:
    """1 for days in the weekmask (Monday first), ``WEEKEND_WEIGHT`` for the others."""
    open_days = np.array([c == "1" for c in weekmask])
    weekday = (np.arange(days) + THURSDAY) % 7
    return np.where(open_days[weekday], 1.0, WEEKEND_WEIGHT)


def daily_walk(config: SimulatorConfig, symbol: str, weekmask: str, last_day: int) -> DailyWalk:
    """The walk of ``symbol`` from 1970-01-01 through at least ``last_day``."""
    return _walk(
        config.seed,
        symbol,
        config.volatility,
        config.drift,
        config.tail_df,
        config.garch_alpha,
        config.garch_beta,
        config.overnight_share,
        weekmask,
        last_day // BLOCK_DAYS + 1,
    )


@lru_cache(maxsize=32)
def _walk(
    seed: int,
    symbol: str,
    volatility: float,
    drift: float,
    tail_df: float,
    alpha: float,
    beta: float,
    overnight: float,
    weekmask: str,
    blocks: int,
) -> DailyWalk:
    overnight_z, intraday_z = [], []
    for block in range(blocks):
        rng = stream(seed, symbol, DAILY, block)
        overnight_z.append(unit_t(rng, tail_df, BLOCK_DAYS))
        intraday_z.append(unit_t(rng, tail_df, BLOCK_DAYS))
    z_night, z_day = np.concatenate(overnight_z), np.concatenate(intraday_z)
    weights = day_weights(blocks * BLOCK_DAYS, weekmask)
    year = weights[:7].sum() * 365.25 / 7  # variance weight of a year
    shocks = math.sqrt(overnight) * z_night + math.sqrt(1.0 - overnight) * z_day
    level = garch_levels(shocks, alpha, beta)
    variance = volatility**2 / year * weights * level
    mean = (drift - 0.5 * volatility**2) / year * weights
    gap = overnight * mean + np.sqrt(overnight * variance) * z_night
    intraday_variance = (1.0 - overnight) * variance
    intraday = (1.0 - overnight) * mean + np.sqrt(intraday_variance) * z_day
    return DailyWalk(gap, intraday, np.cumsum(gap + intraday), level, intraday_variance)
