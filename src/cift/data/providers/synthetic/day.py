"""One symbol's session: its minute path, its quote updates and trades.

A day depends only on (seed, symbol, day) and the daily walk, never on the range asked
for, so any split of a range into chunks yields the same rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .config import SimulatorConfig
from .kernels import events, minute_path
from .walk import BOOK, PATH, SIZES, DailyWalk, stream, unit_t

FLOW_SKEW = 0.5
"""How strongly the latent order flow tilts trades toward buys: P(buy) = 1/(1+e^(-2kf))."""
SIZE_SIGMA = 1.0
"""Log-normal dispersion of trade sizes."""
BOOK_LOT = 100.0
BOOK_LOTS_P = 0.25
"""Quote sizes are ``BOOK_LOT`` times a geometric number of lots (mean 1 / p)."""


@dataclass(frozen=True)
class DayEvents:
    """Every quote update of a session; those with a non-zero side are also trades."""

    day: int
    ts: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    side: np.ndarray

    @property
    def trade_mask(self) -> np.ndarray:
        mask: np.ndarray = self.side != 0
        return mask


def intraday_shape(minutes: int, u_shape: float) -> np.ndarray:
    """The U of activity and variance over the session: ``1 + u_shape * (2u - 1)^2``."""
    position = (np.arange(minutes) + 0.5) / minutes
    shape: np.ndarray = 1.0 + u_shape * (2.0 * position - 1.0) ** 2
    return shape


def simulate_day(
    config: SimulatorConfig,
    symbol: str,
    day: int,
    minute_starts: np.ndarray,
    walk: DailyWalk,
    open_level: float,
) -> DayEvents:
    """Events of ``symbol`` on ``day`` (days since 1970-01-01) over its trading minutes."""
    rng = stream(config.seed, symbol, PATH, day)
    minutes = int(minute_starts.shape[0])
    shape = intraday_shape(minutes, config.u_shape)
    noise = unit_t(rng, config.tail_df, minutes)
    flow = rng.standard_normal(minutes)
    level = float(walk.level[day])
    sigma, returns, garch = minute_path(
        shape,
        noise,
        flow,
        float(walk.intraday_variance[day]),
        config.garch_alpha,
        config.garch_beta,
        config.flow_impact,
        config.imbalance_signal,
    )
    # Pin the path to the daily walk's close, spreading the correction by variance.
    returns += sigma**2 / np.sum(sigma**2) * (float(walk.intraday[day]) - returns.sum())
    levels = open_level + np.concatenate(([0.0], np.cumsum(returns)[:-1]))
    activity = shape / shape.sum() * np.sqrt(garch * level)
    per_day = config.trades_per_day * (1.0 + config.quotes_per_trade)
    counts = rng.poisson(per_day * activity)
    total = int(counts.sum())
    when, which = rng.random(total), rng.random(total)
    bridge = rng.standard_normal(total + minutes)
    ts, bid, ask, side = events(
        minute_starts,
        counts,
        levels,
        returns,
        sigma,
        config.spread_bps * 1e-4 * np.sqrt(shape * garch * level),
        1.0 / (1.0 + np.exp(-2.0 * FLOW_SKEW * flow)),
        when,
        which,
        bridge,
        1.0 / (1.0 + config.quotes_per_trade),
        1.0 / config.tick_size,
    )
    return DayEvents(day, ts, bid, ask, side)


def trade_sizes(config: SimulatorConfig, symbol: str, day: int, count: int) -> np.ndarray:
    """Whole-share sizes of the day's trades: log-normal with mean ``trade_size``."""
    rng = stream(config.seed, symbol, SIZES, day)
    mu = math.log(config.trade_size) - 0.5 * SIZE_SIGMA**2
    return np.maximum(np.round(rng.lognormal(mu, SIZE_SIGMA, count)), 1.0)


def quote_sizes(
    config: SimulatorConfig, symbol: str, day: int, count: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bid and ask sizes of the day's quote updates, in round lots."""
    rng = stream(config.seed, symbol, BOOK, day)
    bid = BOOK_LOT * rng.geometric(BOOK_LOTS_P, count)
    ask = BOOK_LOT * rng.geometric(BOOK_LOTS_P, count)
    return bid.astype(np.float64), ask.astype(np.float64)
