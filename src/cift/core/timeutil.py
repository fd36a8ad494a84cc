"""Time helpers: UTC everywhere, nanoseconds at rest, friendly parsing at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cift.core.errors import ValidationError

NS_PER_SECOND = 1_000_000_000
EARLIEST_NS = -(2**63) + 1
LATEST_NS = 2**63 - 1
"""The nanosecond timestamps int64 holds (-2^63 is Arrow's and Polars' null sentinel in
some paths, so it is left out)."""
STORABLE_RANGE = "1677-09-21 to 2262-04-11"
MARKET_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
MARKET_LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""The default window of plausible market-data times (CIFT_MARKET_*_TIME)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _unstorable(what: str) -> ValidationError:
    return ValidationError(f"{what} is outside the times CIFT can store ({STORABLE_RANGE} UTC).")


def parse_when(text: str, *, end: bool = False, tz: str = "UTC") -> datetime:
    """Read a user's date or date-time as an aware UTC datetime.

    A plain date means the start of that day; as an ``end`` it means the end of that day
    (the next midnight), so ``--start 2024-01-02 --end 2024-01-02`` is one whole day.
    Times without an offset are in ``tz``.
    """
    value = text.strip()
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"Unknown time zone {tz!r}; use an IANA name such as UTC.") from None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day, tzinfo=zone)
            moment = moment + timedelta(days=1) if end else moment
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
        moment = moment.astimezone(UTC)
    except ValueError:
        raise ValidationError(
            f"Cannot read {text!r} as a date or time; use YYYY-MM-DD or "
            "YYYY-MM-DDTHH:MM[:SS][+HH:MM]."
        ) from None
    except OverflowError:
        raise _unstorable(repr(text)) from None
    to_ns(moment)  # refuses what nanoseconds since the epoch cannot hold
    return moment


def range_end(start: str | None, end: str | None) -> datetime | None:
    """``end`` read as the end of a range (a plain date: the end of that day), refused
    when it is not after ``start``: a reversed range matches nothing, which is a mistake
    to say, not an empty result to print."""
    if end is None:
        return None
    until = parse_when(end, end=True)
    if start is not None and until <= parse_when(start):
        raise ValidationError(
            f"The end {end!r} is not after the start {start!r}: the range is empty; swap "
            "them or widen it."
        )
    return until


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime (microsecond precision)."""
    if moment.tzinfo is None:
        raise ValidationError(f"{moment.isoformat()} has no time zone; pass UTC times.")
    delta = moment - _EPOCH
    ns = (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1000
    if not EARLIEST_NS <= ns <= LATEST_NS:
        raise _unstorable(moment.isoformat())
    return ns


def check_ns(ns: object, what: str) -> int:
    """``ns`` as nanoseconds since the epoch, refusing non-integers and what int64 cannot
    hold (``what`` names the value in the message)."""
    if not isinstance(ns, int) or isinstance(ns, bool) or not EARLIEST_NS <= ns <= LATEST_NS:
        raise ValidationError(
            f"{what} must be whole nanoseconds since the epoch within {STORABLE_RANGE} UTC, "
            f"not {ns!r:.40}."
        )
    return ns


def from_ns(ns: int) -> datetime:
    """The aware UTC datetime of a nanosecond timestamp (truncated to microseconds)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)
