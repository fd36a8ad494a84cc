"""The ``polygon`` provider: Polygon (now Massive) REST history over thin httpx calls.

Bars come from v2 aggregates, trades and quotes from v3; every endpoint pages with an
absolute ``next_url`` that carries an opaque cursor and all filters but not the key. We
request only its path and query on our base URL and authenticate with the
``Authorization: Bearer`` header, so the key never appears in a URL, a log or an error.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from urllib.parse import quote

import polars as pl

from cift.core.errors import ValidationError
from cift.core.settings import env_var
from cift.core.timeutil import to_ns
from cift.model import DataKind, Timeframe

from ..base import RateLimit, check_range
from ..http import (
    HttpClient,
    Params,
    Upstream,
    malformed,
    rebase,
    within,
)
from .parse import NS_PER_MS, parse_page

MAX_PAGE = 50_000
TIMESPANS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}
UPSTREAM = Upstream(
    name="Polygon",
    provider="polygon",
    url_setting=env_var("polygon_base_url"),
    credentials_hint=f"Check {env_var('polygon_api_key')}: it must be a valid Polygon/Massive "
    "API key.",
    entitlement_hint="The key is valid but its plan does not cover this data (asset class, "
    "history depth, or data from the last 15 minutes on delayed plans): upgrade the plan or "
    "ask for older data.",
)


class PolygonProvider:
    """Historical bars, trades and quotes from Polygon/Massive, one page at a time."""

    name = "polygon"
    kinds = frozenset(DataKind)

    def __init__(
        self,
        client: HttpClient,
        *,
        page_limit: int = MAX_PAGE,
        adjusted: bool = False,
        rate_limit: RateLimit | None = None,
    ) -> None:
        if not 1 <= page_limit <= MAX_PAGE:
            raise ValidationError(f"Polygon pages hold 1 to {MAX_PAGE} rows; got {page_limit}.")
        self.client = client
        self.page_limit = page_limit
        self.adjusted = adjusted
        self.rate_limit = rate_limit

    def bars(
        self, symbols: Sequence[str], start: datetime, end: datetime, timeframe: Timeframe
    ) -> Iterator[pl.DataFrame]:
        """Aggregates of ``timeframe`` whose open time lies in ``[start, end)``."""
        check_range(start, end)
        first_ms = -(-to_ns(start) // NS_PER_MS)  # from and to are inclusive milliseconds
        last_ms = (to_ns(end) - 1) // NS_PER_MS
        params: Params = {
            "adjusted": str(self.adjusted).lower(),
            "sort": "asc",
            "limit": self.page_limit,
        }
        for symbol in symbols:
            path = (
                f"/v2/aggs/ticker/{_ticker(symbol)}/range/{timeframe.multiplier}/"
                f"{TIMESPANS[timeframe.unit]}/{first_ms}/{last_ms}"
            )
            yield from self._pages(DataKind.BARS, symbol, path, params, start, end)

    def trades(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        """v3 trades with SIP time in ``[start, end)``, oldest first per symbol."""
        return self._ticks(DataKind.TRADES, "/v3/trades", symbols, start, end)

    def quotes(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        """v3 NBBO quotes with SIP time in ``[start, end)``, oldest first per symbol."""
        return self._ticks(DataKind.QUOTES, "/v3/quotes", symbols, start, end)

    def _ticks(
        self, kind: DataKind, prefix: str, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        check_range(start, end)
        params: Params = {
            "timestamp.gte": to_ns(start),
            "timestamp.lt": to_ns(end),
            "order": "asc",
            "sort": "timestamp",
            "limit": self.page_limit,
        }
        for symbol in symbols:
            yield from self._pages(kind, symbol, f"{prefix}/{_ticker(symbol)}", params, start, end)

    def _pages(
        self,
        kind: DataKind,
        symbol: str,
        target: str,
        params: Params | None,
        start: datetime,
        end: datetime,
    ) -> Iterator[pl.DataFrame]:
        """Follow ``next_url`` until the last page; one frame per non-empty page."""
        while True:
            fetched = self.client.get(target, params)
            rows, next_url = parse_page(self.client, fetched, kind, symbol)
            following = None
            if next_url:
                try:
                    following = rebase(next_url)
                except ValueError as exc:
                    raise malformed(self.client, fetched, str(exc)) from None
                if following == target:
                    raise malformed(self.client, fetched, "next_url repeats the page just read")
            del fetched  # only one page's body is held at a time
            rows = within(rows, start, end)
            if rows.height:
                yield rows
            if following is None:
                return
            target, params = following, None

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


def _ticker(symbol: str) -> str:
    """A ticker as a path segment (``X:BTCUSD`` and ``O:...`` keep their colon)."""
    if not symbol.strip():
        raise ValidationError("Symbols must not be empty, e.g. --symbols AAPL,MSFT.")
    return quote(symbol, safe=":.")
