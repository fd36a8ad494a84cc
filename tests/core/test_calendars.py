"""Bar closes on an exchange calendar: the live runner's one-at-a-time closer agrees with
the backtest's vectorised one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pytest

from cift.core.calendars import BarCloser, bar_closes, quiet_calendars, sessions
from cift.core.errors import ValidationError
from cift.model import Timeframe

DAY = Timeframe.parse("1d").nanos
MINUTE = Timeframe.parse("1m").nanos
SPAN = (
    int(datetime(2018, 1, 1, tzinfo=UTC).timestamp()) // 60,
    int(datetime(2025, 12, 31, tzinfo=UTC).timestamp()) // 60,
)


def test_a_daily_bar_closes_at_the_session_close() -> None:
    closer = BarCloser(DAY, "XNYS")
    friday = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1e9)
    assert closer(friday) == int(datetime(2024, 3, 1, 21, tzinfo=UTC).timestamp() * 1e9)
    black_friday = int(datetime(2024, 11, 29, tzinfo=UTC).timestamp() * 1e9)  # 13:00 close
    assert closer(black_friday) == int(datetime(2024, 11, 29, 18, tzinfo=UTC).timestamp() * 1e9)
    saturday = friday + DAY
    assert closer(saturday) == saturday + DAY  # no session: open time plus a day
    assert BarCloser(DAY, None)(friday) == friday + DAY


@pytest.mark.parametrize("length", [DAY, MINUTE], ids=["1d", "1m"])
def test_one_at_a_time_equals_all_at_once(length: int) -> None:
    """Bars over eight years, weekends, holidays and early closes included: the closer
    reloads its sessions as the years go by and agrees with the vectorised closes."""
    rng = np.random.default_rng(7)
    opened = np.sort(rng.integers(*SPAN, size=3_000)) * 60_000_000_000
    if length == DAY:
        opened -= opened % DAY  # daily bars open at midnight UTC
    closer = BarCloser(length, "XNYS")
    assert [closer(int(t)) for t in opened] == bar_closes(opened, length, "XNYS").tolist()


def test_a_misspelt_calendar_is_refused_when_the_closer_is_made() -> None:
    with pytest.raises(ValidationError, match="Unknown exchange calendar 'XNYZ'"):
        BarCloser(DAY, "XNYZ")


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("XNYS", date(2019, 12, 16), date(2020, 1, 17)),  # across two decades
        ("XNYS", date(2024, 11, 20), date(2024, 12, 6)),  # an early close
        ("XSHG", date(2024, 1, 2), date(2024, 3, 1)),  # no calendar past 2026
    ],
)
def test_the_sessions_are_those_of_the_range_asked_for(name: str, first: date, last: date) -> None:
    """Built for whole decades or not, the sessions are exchange-calendars' own for the
    range alone."""
    import exchange_calendars as xcals

    with quiet_calendars():
        schedule = xcals.get_calendar(name, start=first, end=last).schedule
    expected = [
        schedule[column].to_numpy(dtype="datetime64[ns]").astype(np.int64).tolist()
        for column in ("open", "close")
    ]
    assert [times.tolist() for times in sessions(name, first, last)] == expected


def test_ranges_in_the_same_decades_build_one_calendar(calendar_builds: list[str]) -> None:
    """A calendar costs about 0.3 s to build: the runs and folds of one process over nearby
    dates read their sessions from one."""
    built = calendar_builds
    sessions("XNYS", date(2041, 1, 2), date(2041, 2, 1))
    after_first = len(built)
    sessions("XNYS", date(2046, 5, 1), date(2047, 1, 4))  # the same decade
    assert len(built) == after_first
    sessions("XNYS", date(2039, 5, 1), date(2041, 1, 4))  # one more decade
    assert len(built) == after_first + 1
