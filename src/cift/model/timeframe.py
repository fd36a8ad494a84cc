"""Bar timeframes: ``1Min``, ``5Min``, ``1H``, ``1D`` and friends."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from cift.core.errors import ValidationError

_UNITS = {
    "s": ("s", 1_000_000_000),
    "sec": ("s", 1_000_000_000),
    "second": ("s", 1_000_000_000),
    "m": ("m", 60_000_000_000),
    "min": ("m", 60_000_000_000),
    "minute": ("m", 60_000_000_000),
    "h": ("h", 3_600_000_000_000),
    "hour": ("h", 3_600_000_000_000),
    "d": ("d", 86_400_000_000_000),
    "day": ("d", 86_400_000_000_000),
}
_PATTERN = re.compile(r"^\s*(\d+)\s*([a-zA-Z]+)\s*$")


@dataclass(frozen=True, order=True)
class Timeframe:
    """A fixed bar length. ``str()`` gives the canonical form (``1m``, ``5m``, ``1h``, ``1d``)."""

    nanos: int
    multiplier: int
    unit: str

    EXAMPLES: ClassVar[str] = "1s, 1Min, 5Min, 15Min, 1H, 1D"

    @classmethod
    def parse(cls, text: str | Timeframe) -> Timeframe:
        """Read ``1Min``, ``5m``, ``1Hour``, ``1D``, ... (case-insensitive).

        >>> Timeframe.parse("5Min")
        Timeframe(nanos=300000000000, multiplier=5, unit='m')
        >>> str(Timeframe.parse("1Hour")), Timeframe.parse("2 days").nanos // 3_600_000_000_000
        ('1h', 48)
        >>> Timeframe.parse("0m")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        cift.core.errors.ValidationError: Unknown timeframe '0m'; use a positive number ...
        """
        if isinstance(text, Timeframe):
            return text
        match = _PATTERN.match(text)
        unit = match.group(2).lower() if match else ""
        if unit not in _UNITS and len(unit) > 2 and unit.endswith("s"):
            unit = unit[:-1]  # plurals: mins, hours, days (but "ms" is not minutes)
        if match is None or unit not in _UNITS or int(match.group(1)) <= 0:
            raise ValidationError(
                f"Unknown timeframe {text!r}; use a positive number and a unit, e.g. "
                f"{cls.EXAMPLES}."
            )
        multiplier = int(match.group(1))
        short, unit_nanos = _UNITS[unit]
        return cls(nanos=multiplier * unit_nanos, multiplier=multiplier, unit=short)

    @property
    def polars(self) -> str:
        """The duration string Polars' ``group_by_dynamic`` takes (``5m``, ``1h``, ``1d``)."""
        return f"{self.multiplier}{self.unit}"

    def __str__(self) -> str:
        return self.polars
