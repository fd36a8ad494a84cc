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
from datetime import date

import exchange_calendars as xcals

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
