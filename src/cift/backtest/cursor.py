"""The bar the bars-only loop hands to ``on_bar``: it reads the chunk's columns at the
loop's place, so moving to the next bar is one assignment, however many fields the
strategy reads (copying seven fields into a view for every bar cost more than most
strategies' own work)."""

from __future__ import annotations

from array import array


class BarCursor:
    """A :class:`cift.strategy.context.BarView` over one chunk's columns: ``at`` is the
    bar's place in them (``symbol`` holds indexes into ``names``)."""

    __slots__ = ("_close", "_high", "_low", "_names", "_open", "_symbol", "_ts", "_volume", "at")

    def __init__(
        self,
        names: list[str],
        symbol: array[int],
        ts: array[int],
        open_: array[float],
        high: array[float],
        low: array[float],
        close: array[float],
        volume: array[float],
    ) -> None:
        self.at = 0
        self._names, self._symbol, self._ts = names, symbol, ts
        self._open, self._high, self._low = open_, high, low
        self._close, self._volume = close, volume

    @property
    def symbol(self) -> str:
        return self._names[self._symbol[self.at]]

    @property
    def ts_ns(self) -> int:
        return self._ts[self.at]

    @property
    def open(self) -> float:
        return self._open[self.at]

    @property
    def high(self) -> float:
        return self._high[self.at]

    @property
    def low(self) -> float:
        return self._low[self.at]

    @property
    def close(self) -> float:
        return self._close[self.at]

    @property
    def volume(self) -> float:
        return self._volume[self.at]

    def __repr__(self) -> str:
        fields = ("symbol", "ts_ns", "open", "high", "low", "close", "volume")
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in fields)
        return f"BarCursor({shown})"
