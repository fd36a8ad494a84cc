"""The contract every market-data provider keeps, run against each one: the simulator,
local files, and Polygon and Alpaca through local servers speaking their wire formats.

For each kind it serves: pages in the model's columns and dtypes, only the symbols asked
for, only rows in ``[start, end)``, each symbol oldest first, the same rows when a range
is fetched again (so a resumed backfill stores nothing twice), and clear refusals of an
empty, inverted or naive range."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.data.providers import MarketDataProvider, fetch, get_provider
from cift.model import SCHEMAS, DataKind, Timeframe

from .wire import ALPACA_KEY_ID, ALPACA_SECRET, POLYGON_KEY, make_tape, serving

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
TAPE = make_tape(["AAPL", "MSFT"], trades=600, quotes=500)
TICKS = (datetime(2024, 1, 2, 14, 30, 2, tzinfo=UTC), datetime(2024, 1, 2, 14, 30, 20, tzinfo=UTC))
MINUTES = (datetime(2024, 1, 2, 14, 30, tzinfo=UTC), datetime(2024, 1, 2, 16, 0, tzinfo=UTC))
SettingsFactory = Callable[..., Settings]


@dataclass(frozen=True)
class Case:
    """A provider and what to ask it for."""

    provider: MarketDataProvider
    symbols: tuple[str, ...]
    ranges: dict[DataKind, tuple[datetime, datetime]]
    timeframe: Timeframe


def _http_options() -> dict[str, object]:
    return {"max_retries": 2, "backoff": 0.001, "requests_per_minute": 100_000, "page_limit": 200}


@pytest.fixture(params=["synthetic", "files", "polygon", "alpaca"])
def case(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Iterator[Case]:
    name = str(request.param)
    every = dict.fromkeys((DataKind.TRADES, DataKind.QUOTES), TICKS) | {DataKind.BARS: MINUTES}
    if name == "synthetic":
        provider = get_provider(name, make_settings(), seed=3, trades_per_day=2_000)
        yield Case(provider, ("AAA", "BBB"), every, Timeframe.parse("1m"))
    elif name == "files":
        paths = [DATA / "daily" / "nvda-1999-2014.csv"]
        provider = get_provider(name, make_settings(), paths=paths)
        daily = (datetime(2010, 1, 1, tzinfo=UTC), datetime(2010, 3, 1, tzinfo=UTC))
        yield Case(provider, ("NVDA",), {DataKind.BARS: daily}, Timeframe.parse("1d"))
    else:
        with serving(TAPE) as server:
            keys = (
                {"polygon_api_key": POLYGON_KEY, "polygon_base_url": server.url}
                if name == "polygon"
                else {
                    "alpaca_api_key_id": ALPACA_KEY_ID,
                    "alpaca_api_secret_key": ALPACA_SECRET,
                    "alpaca_data_url": server.url,
                }
            )
            provider = get_provider(name, make_settings(**keys), **_http_options())
            yield Case(provider, ("AAPL", "MSFT"), every, Timeframe.parse("1m"))
    provider.close()


def _fetched(case: Case, kind: DataKind) -> list[pl.DataFrame]:
    start, end = case.ranges[kind]
    return list(
        fetch(case.provider, kind, list(case.symbols), start, end, timeframe=case.timeframe)
    )


def test_pages_hold_the_asked_symbols_and_range_in_the_model_columns(case: Case) -> None:
    assert set(case.ranges) <= case.provider.kinds
    for kind, (start, end) in case.ranges.items():
        pages = _fetched(case, kind)
        rows = pl.concat(pages) if pages else pl.DataFrame(schema=SCHEMAS[kind])
        assert rows.height > 0, f"{case.provider.name} served no {kind.value}"
        for page in pages:
            assert page.schema == SCHEMAS[kind], (kind, page.schema)
        assert set(rows["symbol"].unique()) <= set(case.symbols)
        assert rows["ts"].min() >= start  # type: ignore[operator]
        assert rows["ts"].max() < end  # type: ignore[operator]


def test_each_symbol_comes_oldest_first(case: Case) -> None:
    for kind in case.ranges:
        rows = pl.concat(_fetched(case, kind))
        for symbol, group in rows.group_by("symbol"):
            assert group["ts"].is_sorted(), (kind, symbol)


def test_a_range_fetched_again_gives_the_same_rows(case: Case) -> None:
    for kind in case.ranges:
        first, again = pl.concat(_fetched(case, kind)), pl.concat(_fetched(case, kind))
        assert first.equals(again), kind


def test_an_empty_inverted_or_naive_range_is_refused(case: Case) -> None:
    kind = next(iter(case.ranges))
    start, end = case.ranges[kind]
    symbols = list(case.symbols)
    for first, last in ((start, start), (end, start)):
        with pytest.raises(ValidationError, match="range is empty"):
            list(fetch(case.provider, kind, symbols, first, last, timeframe=case.timeframe))
    naive = start.replace(tzinfo=None)
    with pytest.raises(ValidationError, match="no time zone"):
        list(fetch(case.provider, kind, symbols, naive, end, timeframe=case.timeframe))
