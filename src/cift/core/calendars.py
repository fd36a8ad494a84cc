"""Exchange calendars (``exchange-calendars``), built once per span and quietly.

exchange-calendars still calls pandas APIs that pandas 3.1 deprecates; the warnings say
nothing a user can act on. ``warnings.catch_warnings`` changes process-wide state, so
calendar work is serialised under one lock: backfills build calendars from several
threads at once.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import exchange_calendars as xcals
import numpy as np

from cift.core.errors import ValidationError

_LOCK = threading.RLock()


@contextmanager
def quiet_calendars() -> Iterator[None]:
    """Run calendar code with pandas' deprecation warnings from it silenced."""
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def exchange_calendar(name: str, start: date, end: date) -> xcals.ExchangeCalendar:
    """Calendar ``name`` (XNYS, XLON, CMES, 24/5, 24/7, ...) covering ``start``..``end``."""
    try:
        with quiet_calendars():
            return xcals.get_calendar(name, start=start, end=end)
    except xcals.errors.InvalidCalendarName:
        raise ValidationError(
            f"Unknown exchange calendar {name!r}; use a code such as XNYS, XLON, XHKG, "
            "CMES, 24/5 (FX) or 24/7 (crypto)."
        ) from None


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
    first = datetime.fromtimestamp(int(ts_ns.min()) / 1e9, UTC).date() - timedelta(days=7)
    last = datetime.fromtimestamp(int(ends.max()) / 1e9, UTC).date() + timedelta(days=7)
    with quiet_calendars():
        schedule = exchange_calendar(calendar, first, last).schedule
        opens = schedule["open"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
        closes = schedule["close"].to_numpy(dtype="datetime64[ns]").astype(np.int64)
    # the last session that opened before the bar's end: sessions are sorted and disjoint
    last_session = np.searchsorted(opens, ends, side="left") - 1
    found = last_session >= 0
    session_close = np.where(found, closes[np.clip(last_session, 0, None)], ends)
    within = found & (session_close > ts_ns)
    return np.where(within, np.minimum(ends, session_close), ends)
