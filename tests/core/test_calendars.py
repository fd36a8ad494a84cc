"""Bar closes on an exchange calendar: the live runner's one-at-a-time closer agrees with
the backtest's vectorised one."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from cift.core.calendars import BarCloser, bar_closes
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
