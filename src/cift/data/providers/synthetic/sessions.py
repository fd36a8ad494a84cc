"""Trading sessions from an exchange calendar, as nanosecond arrays.

Only minutes inside sessions carry data: from the open to the close, less any lunch
break. Weekends and holidays have no session and so no rows.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np

from cift.core.calendars import Schedule, decade_schedule, decades
from cift.core.errors import ValidationError
from cift.core.timeutil import from_ns

DAY_NS = 86_400 * 10**9
MINUTE_NS = 60 * 10**9
EARLIEST_NS = 365 * DAY_NS
"""1971-01-01: the earliest time served (calendars are built from a year before)."""


@dataclass(frozen=True)
class Sessions(Schedule):
    """A calendar's sessions (see :class:`cift.core.calendars.Schedule`), with what the
    simulator asks of them."""

    def overlapping(self, low: int, high: int) -> np.ndarray:
        """Indices of sessions whose ``[open, close)`` meets ``[low, high)``."""
        return np.flatnonzero((self.opens < high) & (self.closes > low))

    def labelled(self, low: int, high: int) -> np.ndarray:
        """Indices of sessions whose date label lies in ``[low, high)``."""
        return np.flatnonzero((self.labels >= low) & (self.labels < high))

    def minutes(self, index: int) -> np.ndarray:
        """Start times of the session's trading minutes."""
        morning = np.arange(self.opens[index], self.break_starts[index], MINUTE_NS)
        if self.break_ends[index] >= self.closes[index]:
            return morning
        afternoon = np.arange(self.break_ends[index], self.closes[index], MINUTE_NS)
        return np.concatenate([morning, afternoon])


def sessions_between(name: str, low: int, high: int) -> Sessions:
    """The sessions of calendar ``name`` around ``[low, high)`` (ns), with a year's margin,
    for whole decades, so the chunks of a backfill share them (and the backtests of the
    process their calendar)."""
    if low < EARLIEST_NS:
        raise ValidationError("Synthetic data starts on 1971-01-01; ask for a later start.")
    return _sessions(name, *decades(from_ns(low).year - 1, from_ns(high).year + 1))


@lru_cache(maxsize=16)
def _sessions(name: str, first_year: int, last_year: int) -> Sessions:
    schedule = decade_schedule(name, first_year, last_year)
    return Sessions(**{field.name: getattr(schedule, field.name) for field in fields(schedule)})
