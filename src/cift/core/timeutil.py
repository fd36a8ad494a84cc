"""Time helpers: UTC everywhere, nanoseconds at rest, friendly parsing at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cift.core.errors import ValidationError

NS_PER_SECOND = 1_000_000_000


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
            return (moment + timedelta(days=1) if end else moment).astimezone(UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"Cannot read {text!r} as a date or time; use YYYY-MM-DD or "
            "YYYY-MM-DDTHH:MM[:SS][+HH:MM]."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime (microsecond precision)."""
    if moment.tzinfo is None:
        raise ValidationError(f"{moment.isoformat()} has no time zone; pass UTC times.")
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1000


def from_ns(ns: int) -> datetime:
    """The aware UTC datetime of a nanosecond timestamp (truncated to microseconds)."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)
