"""The ``alpaca`` provider: Alpaca market data v2 (US stocks) over thin httpx calls.

Multi-symbol endpoints return pages sorted by symbol, then time, and page with
``next_page_token`` (every other parameter stays the same). Requests carry the
``APCA-API-KEY-ID`` and ``APCA-API-SECRET-KEY`` headers; neither ever appears in a URL,
a log or an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Literal

import polars as pl

from cift.core.errors import ValidationError
from cift.core.settings import env_var
from cift.model import DataKind, Timeframe

from ..base import RateLimit, check_range
from ..http import HttpClient, Params, Upstream, malformed, within
from .parse import parse_page

MAX_PAGE = 10_000
FEEDS = ("iex", "sip", "delayed_sip", "otc")
ADJUSTMENTS = ("raw", "split", "dividend", "all")
Adjustment = Literal["raw", "split", "dividend", "all"]
MINUTE_NS, HOUR_NS, DAY_NS = 60 * 10**9, 3_600 * 10**9, 86_400 * 10**9
KEYS = f"{env_var('alpaca_api_key_id')} and {env_var('alpaca_api_secret_key')}"
UPSTREAM = Upstream(
    name="Alpaca",
    provider="alpaca",
    url_setting=env_var("alpaca_data_url"),
    credentials_hint=f"Check {KEYS}: they must be a valid key pair from your Alpaca dashboard.",
    entitlement_hint=f"Check {KEYS}, and that your plan covers the feed "
    f"({env_var('alpaca_feed')}; the free plan has only iex) and the time range (the free "
    "plan has no SIP data from the last 15 minutes).",
)


def alpaca_timeframe(timeframe: Timeframe) -> str:
    """Alpaca's name of a bar length: ``5Min``, ``1Hour``, ``1Day``."""
    nanos = timeframe.nanos
    if nanos == DAY_NS:
        return "1Day"
    if nanos % HOUR_NS == 0 and nanos // HOUR_NS <= 23:
        return f"{nanos // HOUR_NS}Hour"
    if nanos % MINUTE_NS == 0 and nanos // MINUTE_NS <= 59:
        return f"{nanos // MINUTE_NS}Min"
    raise ValidationError(
        f"Alpaca has no {timeframe} bars; use 1 to 59 minutes, 1 to 23 hours, or 1 day "
        "(e.g. 1Min, 15Min, 1H, 1D)."
    )


def rfc3339(moment: datetime) -> str:
    """A UTC time as Alpaca reads it, e.g. ``2024-01-02T14:30:00.000000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AlpacaProvider:
    """Historical stock bars, trades and quotes from Alpaca, one page at a time."""

    name = "alpaca"
    kinds = frozenset(DataKind)

    def __init__(
        self,
        client: HttpClient,
        *,
        feed: str = "iex",
        adjustment: Adjustment = "raw",
        page_limit: int = MAX_PAGE,
        rate_limit: RateLimit | None = None,
    ) -> None:
        if feed not in FEEDS:
            raise ValidationError(
                f"Unknown Alpaca feed {feed!r}; choose one of {', '.join(FEEDS)}."
            )
        if adjustment not in ADJUSTMENTS:
            raise ValidationError(
                f"Unknown Alpaca adjustment {adjustment!r}; choose one of {', '.join(ADJUSTMENTS)}."
            )
        if not 1 <= page_limit <= MAX_PAGE:
            raise ValidationError(f"Alpaca pages hold 1 to {MAX_PAGE} rows; got {page_limit}.")
        self.client = client
        self.feed = feed
        self.adjustment = adjustment
        self.page_limit = page_limit
        self.rate_limit = rate_limit

    def bars(
        self, symbols: Sequence[str], start: datetime, end: datetime, timeframe: Timeframe
    ) -> Iterator[pl.DataFrame]:
        """Bars of ``timeframe`` whose open time lies in ``[start, end)``."""
        extra = {"timeframe": alpaca_timeframe(timeframe), "adjustment": self.adjustment}
        return self._pages(DataKind.BARS, symbols, start, end, extra)

    def trades(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        """Trades in ``[start, end)``, oldest first per symbol."""
        return self._pages(DataKind.TRADES, symbols, start, end, {})

    def quotes(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        """Quotes in ``[start, end)``, oldest first per symbol."""
        return self._pages(DataKind.QUOTES, symbols, start, end, {})

    def _pages(
        self,
        kind: DataKind,
        symbols: Sequence[str],
        start: datetime,
        end: datetime,
        extra: dict[str, str],
    ) -> Iterator[pl.DataFrame]:
        """Follow ``next_page_token`` until the last page; one frame per non-empty page."""
        check_range(start, end)
        wanted = _symbols(symbols)
        params: dict[str, str | int] = {
            "symbols": ",".join(wanted),
            "start": rfc3339(start),
            "end": rfc3339(end),
            "limit": self.page_limit,
            "feed": self.feed,
            "sort": "asc",
            **extra,
        }
        path = f"/v2/stocks/{kind.value}"
        return self._follow(kind, wanted, path, params, start, end)

    def _follow(
        self,
        kind: DataKind,
        wanted: list[str],
        path: str,
        params: Params,
        start: datetime,
        end: datetime,
    ) -> Iterator[pl.DataFrame]:
        token: str | None = None
        while True:
            fetched = self.client.get(path, {**params, "page_token": token} if token else params)
            rows, following = parse_page(self.client, fetched, kind, wanted)
            if following and following == token:
                raise malformed(self.client, fetched, "next_page_token repeats the page just read")
            del fetched  # only one page's body is held at a time
            rows = within(rows, start, end)
            if rows.height:
                yield rows
            if not following:
                return
            token = following

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


def _symbols(symbols: Sequence[str]) -> list[str]:
    """Distinct symbols in order; Alpaca answers under upper-case keys, so ask in upper case."""
    wanted = list(dict.fromkeys(s.strip() for s in symbols))
    if not wanted or any(not s for s in wanted):
        raise ValidationError("Name at least one non-empty symbol, e.g. --symbols AAPL,MSFT.")
    lower = [s for s in wanted if s != s.upper()]
    if lower:
        raise ValidationError(
            f"Alpaca symbols are upper case; got {', '.join(lower)}. Use e.g. AAPL, BRK.B."
        )
    return wanted
