"""Exchange calendars (``exchange-calendars``), built once per span and quietly.

A calendar takes about 0.3 s to build whatever its span, so the sessions that bar closes
need are read from a calendar of the whole decades (counted from 1970) around the dates
asked for, and kept: the runs and folds of one process over nearby dates share them.

exchange-calendars still calls pandas APIs that pandas 3.1 deprecates; the warnings say
nothing a user can act on. ``warnings.catch_warnings`` changes process-wide state, so
calendar work is serialised under one lock: backfills build calendars from several
threads at once.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from cift.core.errors import ValidationError

if TYPE_CHECKING:
    import exchange_calendars as xcals
    import pandas as pd

_LOCK = threading.RLock()


@contextmanager
def quiet_calendars() -> Iterator[None]:
    """Run calendar code with pandas' deprecation warnings from it silenced."""
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


SPAN_YEARS = 10
"""Calendars are built for whole decades."""
_FIRST_DECADE = 1970


def decades(first_year: int, last_year: int) -> tuple[int, int]:
    """The first and last years of the whole decades that hold ``first_year..last_year``.

    >>> decades(2024, 2024), decades(1999, 2014)
    ((2020, 2029), (1990, 2019))
    """
    first = first_year - (first_year - _FIRST_DECADE) % SPAN_YEARS
    last = last_year + SPAN_YEARS - 1 - (last_year - _FIRST_DECADE) % SPAN_YEARS
    return first, last


def exchange_calendar(name: str, start: date, end: date) -> xcals.ExchangeCalendar:
    """Calendar ``name`` (XNYS, XLON, CMES, 24/5, 24/7, ...) covering ``start``..``end``
    (exchange-calendars, and pandas with it, are imported on the first one)."""
    import exchange_calendars as xcals

    try:
        with quiet_calendars():
            return xcals.get_calendar(name, start=start, end=end)
    except xcals.errors.InvalidCalendarName:
        raise ValidationError(
            f"Unknown exchange calendar {name!r}; use a code such as XNYS, XLON, XHKG, "
            "CMES, 24/5 (FX) or 24/7 (crypto)."
        ) from None


Sessions = tuple[np.ndarray, np.ndarray]
"""Session opens and closes (ns since the epoch), sorted."""


@dataclass(frozen=True)
class Schedule:
    """Sessions of one calendar as nanosecond arrays, read-only (they are shared): date
    labels (00:00 UTC), opens, closes, and break starts and ends (both the close for a
    session without a break); with the calendar's weekmask ("1111100": Monday-Friday)."""

    weekmask: str
    labels: np.ndarray
    opens: np.ndarray
    closes: np.ndarray
    break_starts: np.ndarray
    break_ends: np.ndarray


def sessions(calendar: str, first: date, last: date) -> Sessions:
    """The opens and closes of ``calendar``'s sessions from ``first`` to ``last``, cut
    from those of the decades around them (or of the range alone, for a calendar that
    cannot reach that far)."""
    try:
        schedule = decade_schedule(calendar, *decades(first.year, last.year))
    except ValueError:  # a calendar bounded within those decades
        schedule = _schedule(calendar, first, last)
    low = np.searchsorted(schedule.labels, _midnight(first), side="left")
    high = np.searchsorted(schedule.labels, _midnight(last), side="right")
    return schedule.opens[low:high], schedule.closes[low:high]


@lru_cache(maxsize=16)
def decade_schedule(name: str, first_year: int, last_year: int) -> Schedule:
    """The schedule of the years ``first_year..last_year`` (whole decades, see
    :func:`decades`), built once per process; a calendar that ends or starts within
    them raises ``ValueError``."""
    return _schedule(name, date(first_year, 1, 1), date(last_year, 12, 31))


def _schedule(name: str, first: date, last: date) -> Schedule:
    calendar = exchange_calendar(name, first, last)
    with quiet_calendars():
        frame = calendar.schedule
        labels = np.asarray(frame.index.asi8, dtype=np.int64)
        opens, closes, starts, ends = (
            _ns(frame[column]) for column in ("open", "close", "break_start", "break_end")
        )
    no_break = starts < 0
    schedule = Schedule(
        weekmask=str(calendar.weekmask),
        labels=labels,
        opens=opens,
        closes=closes,
        break_starts=np.where(no_break, closes, starts),
        break_ends=np.where(no_break, closes, ends),
    )
    for values in (labels, opens, closes, schedule.break_starts, schedule.break_ends):
        values.flags.writeable = False
    return schedule


def _ns(column: pd.Series) -> np.ndarray:
    """UTC nanoseconds of a datetime column; NaT becomes -1."""
    values = np.asarray(column.array.asi8, dtype=np.int64)
    return np.where(column.isna().to_numpy(), -1, values)


def _midnight(day: date) -> np.int64:
    return np.datetime64(day.isoformat(), "ns").astype(np.int64)


def bar_closes(ts_ns: np.ndarray, length_ns: int, calendar: str) -> np.ndarray:
    """When each bar closes (ns): its open time plus its length, but never after the close
    of the last ``calendar`` session that opened within it. So a daily bar of a trading
    day closes at that day's close (16:00 New York for XNYS, 13:00 on an early close), a
    weekly bar at its last session's close, and an intraday bar that runs past an early
    close at that close; a bar that meets no session keeps its open time plus its length.
    """
    if ts_ns.size == 0:
        return ts_ns.copy()
    ends = ts_ns + length_ns
    first = _day(int(ts_ns.min())) - timedelta(days=7)
    last = _day(int(ends.max())) + timedelta(days=7)
    return _closes(ts_ns, ends, sessions(calendar, first, last))


class BarCloser:
    """:func:`bar_closes` for bars that come one at a time (a live run): the calendar's
    sessions are loaded a year at a time, not once per bar. This year's are loaded when
    it is made, so a misspelt calendar fails at the start of a run and the first bar
    does not wait for the calendar library to load."""

    def __init__(self, length_ns: int, calendar: str | None) -> None:
        self.length_ns = length_ns
        self.calendar = calendar
        self._span: tuple[int, int] = (0, -1)
        self._sessions: Sessions = (np.empty(0, np.int64), np.empty(0, np.int64))
        if calendar is not None:
            now = time.time_ns()
            self._load(now, now)

    def __call__(self, ts_ns: int) -> int:
        """When the bar opened at ``ts_ns`` closes."""
        end = ts_ns + self.length_ns
        if self.calendar is None:
            return end
        if not self._span[0] <= end <= self._span[1]:
            self._load(ts_ns, end)
        opened = np.array([ts_ns], dtype=np.int64)
        return int(_closes(opened, opened + self.length_ns, self._sessions)[0])

    def _load(self, ts_ns: int, end: int) -> None:
        assert self.calendar is not None
        first = date(_day(ts_ns).year, 1, 1) - timedelta(days=7)
        last = date(_day(end).year, 12, 31) + timedelta(days=7)
        self._sessions = sessions(self.calendar, first, last)
        low = datetime(first.year, first.month, first.day, tzinfo=UTC) + timedelta(days=7)
        high = datetime(last.year, last.month, last.day, tzinfo=UTC) - timedelta(days=7)
        self._span = (int(low.timestamp() * 1e9), int(high.timestamp() * 1e9))


def _closes(ts_ns: np.ndarray, ends: np.ndarray, known: Sessions) -> np.ndarray:
    opens, closes = known
    # the last session that opened before the bar's end: sessions are sorted and disjoint
    last_session = np.searchsorted(opens, ends, side="left") - 1
    found = last_session >= 0
    session_close = np.where(found, closes[np.clip(last_session, 0, None)], ends)
    within = found & (session_close > ts_ns)
    return np.where(within, np.minimum(ends, session_close), ends)


def _day(ts_ns: int) -> date:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).date()
