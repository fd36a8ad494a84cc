"""Trading sessions from an exchange calendar, as nanosecond arrays.

Only minutes inside sessions carry data: from the open to the close, less any lunch
break. Weekends and holidays have no session and so no rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from cift.core.calendars import decades, exchange_calendar, quiet_calendars
from cift.core.errors import ValidationError
from cift.core.timeutil import from_ns

if TYPE_CHECKING:  # calendars bring pandas: imported with the first one built
    import pandas as pd

DAY_NS = 86_400 * 10**9
MINUTE_NS = 60 * 10**9
EARLIEST_NS = 365 * DAY_NS
"""1971-01-01: the earliest time served (calendars are built from a year before)."""


@dataclass(frozen=True)
class Sessions:
    """Sessions of one calendar: date labels (00:00 UTC) and open/close times, in ns.

    A session without a break has ``break_starts == break_ends == closes``.
    """

    name: str
    weekmask: str
    labels: np.ndarray
    opens: np.ndarray
    closes: np.ndarray
    break_starts: np.ndarray
    break_ends: np.ndarray

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
    for whole decades, so the chunks of a backfill share them."""
    if low < EARLIEST_NS:
        raise ValidationError("Synthetic data starts on 1971-01-01; ask for a later start.")
    return _sessions(name, *decades(from_ns(low).year - 1, from_ns(high).year + 1))


@lru_cache(maxsize=16)
def _sessions(name: str, first_year: int, last_year: int) -> Sessions:
    calendar = exchange_calendar(name, date(first_year, 1, 1), date(last_year, 12, 31))
    with quiet_calendars():
        schedule = calendar.schedule
    closes = _ns(schedule["close"])
    break_starts = _ns(schedule["break_start"])
    break_ends = _ns(schedule["break_end"])
    no_break = break_starts < 0
    return Sessions(
        name=name,
        weekmask=str(calendar.weekmask),
        labels=np.asarray(schedule.index.asi8, dtype=np.int64),
        opens=_ns(schedule["open"]),
        closes=closes,
        break_starts=np.where(no_break, closes, break_starts),
        break_ends=np.where(no_break, closes, break_ends),
    )


def _ns(column: pd.Series) -> np.ndarray:
    """UTC nanoseconds of a datetime column; NaT becomes -1."""
    values = np.asarray(column.array.asi8, dtype=np.int64)
    return np.where(column.isna().to_numpy(), -1, values)
