"""Provider page parsing: CIFT's thin httpx clients next to the official SDKs.

    python bench/provider_parse.py [--rows 200000] [--repeat 3]

Pages in Polygon's and Alpaca's documented wire formats come from the local server the
tests use (``tests/data/providers/wire.py``), run in its own process, uncompressed on
loopback, so every client pays only for HTTP and parsing. Polygon pages hold 50,000 rows
(its maximum) and Alpaca pages 10,000 (its maximum); ``--rows`` rows are split over two
symbols.

Parse only: the bytes of every page, already fetched, to rows: CIFT's ``parse_page``
(Polars frames in CIFT's schema), stdlib ``json`` into a ``pl.DataFrame`` of dicts, and
the SDKs' own model building (``massive`` dataclasses, ``alpaca-py`` pydantic sets).
End to end: each client fetches all pages over HTTP in a fresh process; peak memory is
that process's peak resident set above its level before the first request. Running
the same clients on twice the rows shows whether memory grows with the pages.
The SDKs (``pip install -e ".[bench]"``) are measured when installed and skipped otherwise.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from cift.core.settings import load_settings
from cift.data.providers import alpaca, polygon
from cift.data.providers.http import Fetched, rebase
from cift.model import DataKind
from tests.data.providers.wire import (
    ALPACA_KEY_ID,
    ALPACA_SECRET,
    POLYGON_KEY,
    SESSION_OPEN,
    make_tape,
    serving,
)

from common import machine, table

SYMBOLS = ["AAPL", "MSFT"]
KINDS = (DataKind.TRADES, DataKind.QUOTES)


def serve(rows: int, queue: Any, stop: Any) -> None:
    """The server process: enough trades for ``2 * rows`` and quotes for ``rows`` in all.

    It sends back the server's URL and, per kind and total, the end of the window that
    holds about that many rows over both symbols (half each).
    """
    tape = make_tape(SYMBOLS, trades=rows + 1, quotes=rows // 2 + 1)
    ends = {
        (kind.value, total): getattr(tape, kind.value)[SYMBOLS[0]][total // 2]["ts"]
        for kind, totals in ((DataKind.TRADES, (rows, 2 * rows)), (DataKind.QUOTES, (rows,)))
        for total in totals
    }
    with serving(tape, compress=False) as server:
        queue.put((server.url, ends))
        stop.wait()


def utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).replace(
        microsecond=ns % 1_000_000_000 // 1000
    )


def settings(url: str) -> Any:
    return load_settings(
        home=Path(tempfile.gettempdir()) / "cift-bench",
        polygon_api_key=POLYGON_KEY,
        polygon_base_url=url,
        alpaca_api_key_id=ALPACA_KEY_ID,
        alpaca_api_secret_key=ALPACA_SECRET,
        alpaca_data_url=url,
    )


def cift_polygon(url: str, kind: DataKind, span: tuple[int, int]) -> Iterator[int]:
    provider = polygon.create(settings(url), requests_per_minute=10**6)
    for page in getattr(provider, kind.value)(SYMBOLS, utc(span[0]), utc(span[1])):
        yield page.height
    provider.close()


def cift_alpaca(url: str, kind: DataKind, span: tuple[int, int]) -> Iterator[int]:
    provider = alpaca.create(settings(url), requests_per_minute=10**6)
    for page in getattr(provider, kind.value)(SYMBOLS, utc(span[0]), utc(span[1])):
        yield page.height
    provider.close()


def massive_sdk(url: str, kind: DataKind, span: tuple[int, int]) -> Iterator[int]:
    from massive import RESTClient

    client = RESTClient(api_key=POLYGON_KEY, base=url)
    listing = client.list_trades if kind is DataKind.TRADES else client.list_quotes
    for symbol in SYMBOLS:
        records = listing(
            symbol, timestamp_gte=span[0], timestamp_lt=span[1], order="asc", limit=50_000
        )
        yield sum(1 for _ in records)


def alpaca_sdk(raw: bool) -> Callable[[str, DataKind, tuple[int, int]], Iterator[int]]:
    def run(url: str, kind: DataKind, span: tuple[int, int]) -> Iterator[int]:
        from alpaca.data.enums import DataFeed
        from alpaca.data.historical import StockHistoricalDataClient
        from alpaca.data.requests import StockQuotesRequest, StockTradesRequest

        client = StockHistoricalDataClient(
            ALPACA_KEY_ID, ALPACA_SECRET, raw_data=raw, url_override=url
        )
        request = StockTradesRequest if kind is DataKind.TRADES else StockQuotesRequest
        ask = request(
            symbol_or_symbols=SYMBOLS, start=utc(span[0]), end=utc(span[1]), feed=DataFeed.IEX
        )
        got = (client.get_stock_trades if kind is DataKind.TRADES else client.get_stock_quotes)(ask)
        data: dict[str, list[Any]] = got if raw else got.data  # type: ignore[assignment]
        yield sum(len(rows) for rows in data.values())

    return run


CLIENTS: dict[str, tuple[str, Callable[[str, DataKind, tuple[int, int]], Iterator[int]]]] = {
    "CIFT polygon": ("polygon", cift_polygon),
    "massive `list_*`": ("polygon", massive_sdk),
    "CIFT alpaca": ("alpaca", cift_alpaca),
    "alpaca-py models": ("alpaca", alpaca_sdk(raw=False)),
    "alpaca-py `raw_data=True`": ("alpaca", alpaca_sdk(raw=True)),
}


def sdk_missing(name: str) -> bool:
    module = {"massive": "massive", "alpaca-py": "alpaca"}.get(name.split(maxsplit=1)[0])
    if module is None:
        return False
    try:
        __import__(module)
    except ImportError:
        return True
    return False


class PeakMemory:
    """Samples this process's resident set in a thread; ``peak_mb`` is the top above start."""

    def __init__(self, every: float = 0.002) -> None:
        self.process = psutil.Process()
        self.start = self.top = self.process.memory_info().rss
        self.every = every
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.wait(self.every):
            self.top = max(self.top, self.process.memory_info().rss)

    def __enter__(self) -> PeakMemory:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        self.top = max(self.top, self.process.memory_info().rss)

    @property
    def peak_mb(self) -> float:
        return (self.top - self.start) / 2**20


def import_client(name: str) -> None:
    """Import a client's modules before measuring, so imports do not count as memory."""
    if name.startswith("massive"):
        import massive.rest.models  # noqa: F401
    if name.startswith("alpaca-py"):
        import alpaca.data.historical
        import alpaca.data.requests  # noqa: F401


def measure_client(name: str, url: str, kind: DataKind, span: tuple[int, int], repeat: int) -> Any:
    """Child process: one warm-up fetch (fills the server's page cache), then timed ones."""
    run = CLIENTS[name][1]
    import_client(name)
    sum(run(url, kind, (span[0], span[0] + 50_000_000)))  # runtimes and pools start up
    gc.collect()
    seconds, rows = [], 0
    with PeakMemory() as memory:
        for attempt in range(repeat + 1):
            begin = time.perf_counter()
            rows = sum(run(url, kind, span))
            if attempt:
                seconds.append(time.perf_counter() - begin)
            gc.collect()
    return statistics.median(seconds), rows, memory.peak_mb


def in_child(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a fresh process, so its memory peak is its own."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def fetch_pages(url: str, provider: str, kind: DataKind, span: tuple[int, int]) -> list[bytes]:
    """The raw bodies of every page, fetched once for the parse-only runs."""
    bodies = []
    with httpx.Client(base_url=url, timeout=60) as client:
        if provider == "polygon":
            auth = {"Authorization": f"Bearer {POLYGON_KEY}"}
            for symbol in SYMBOLS:
                target: str | None = f"/v3/{kind.value}/{symbol}"
                params: dict[str, Any] | None = {"timestamp.gte": span[0]}
                params = {**params, "timestamp.lt": span[1], "order": "asc", "limit": 50_000}
                while target:
                    body = client.get(target, params=params, headers=auth).content
                    bodies.append(body)
                    following = json.loads(body).get("next_url")
                    target, params = (rebase(following), None) if following else (None, None)
        else:
            headers = {"APCA-API-KEY-ID": ALPACA_KEY_ID, "APCA-API-SECRET-KEY": ALPACA_SECRET}
            query = {"symbols": ",".join(SYMBOLS), "limit": 10_000}
            query |= {"start": utc(span[0]).isoformat(), "end": utc(span[1] - 1).isoformat()}
            token = None
            while True:
                page = {**query, "page_token": token} if token else query
                body = client.get(f"/v2/stocks/{kind.value}", params=page, headers=headers).content
                bodies.append(body)
                token = json.loads(body)["next_page_token"]
                if not token:
                    break
    return bodies


def polars_reader(schema: pl.Schema, field: str) -> Callable[[bytes], int]:
    """Polars' own JSON reader on the same schema (reading only, no mapping): rows read."""

    def read(body: bytes) -> int:
        page = pl.read_json(io.BytesIO(body), schema=schema).get_column(field)
        lists = page.struct.unnest() if page.dtype == pl.Struct else page.to_frame()
        return int(lists.select(pl.sum_horizontal(pl.all().list.len())).item())

    return read


def parsers(url: str, provider: str, kind: DataKind) -> dict[str, Callable[[bytes], int]]:
    """Ways to turn one page's bytes into rows, each returning the row count."""
    if provider == "polygon":
        client = polygon.create(settings(url)).client
        found: dict[str, Callable[[bytes], int]] = {
            "CIFT `parse_page`": lambda body: (
                polygon.parse_page(client, Fetched(url, body), kind, "AAPL")[0].height
            ),
            "Polars `read_json` (reading only)": polars_reader(
                polygon.parse.PAGES[kind], "results"
            ),
            "`json` + `pl.DataFrame(dicts)`": lambda body: (
                pl.DataFrame(json.loads(body)["results"]).height
            ),
        }
        if not sdk_missing("massive"):
            from massive.rest.models import Quote, Trade

            model = Trade if kind is DataKind.TRADES else Quote
            found["massive models"] = lambda body: len(
                [model.from_dict(r) for r in json.loads(body)["results"]]
            )
        return found
    client = alpaca.create(settings(url)).client
    schema = alpaca.parse.page_schema(kind, SYMBOLS)
    found = {
        "CIFT `parse_page`": lambda body: (
            alpaca.parse_page(client, Fetched(url, body), kind, SYMBOLS)[0].height
        ),
        "Polars `read_json` (reading only)": polars_reader(schema, kind.value),
        "`json` + `pl.DataFrame(dicts)`": lambda body: sum(
            pl.DataFrame(rows).height for rows in json.loads(body)[kind.value].values()
        ),
    }
    if not sdk_missing("alpaca-py"):
        from alpaca.data.models import QuoteSet, TradeSet

        made = TradeSet if kind is DataKind.TRADES else QuoteSet
        found["alpaca-py models"] = lambda body: sum(
            len(v) for v in made(json.loads(body)[kind.value]).data.values()
        )
    return found


def measure_parser(
    url: str, provider: str, kind: DataKind, span: tuple[int, int], name: str, repeat: int
) -> tuple[int, int, float, float]:
    """Child process: pages fetched first, then parsed ``repeat`` times under the meter."""
    bodies = fetch_pages(url, provider, kind, span)
    parse = parsers(url, provider, kind)[name]
    parse(bodies[-1])  # runtimes start up
    gc.collect()
    seconds, count = [], 0
    with PeakMemory() as memory:
        for _ in range(repeat):
            begin = time.perf_counter()
            count = sum(parse(body) for body in bodies)
            seconds.append(time.perf_counter() - begin)
            gc.collect()
    return len(bodies), count, statistics.median(seconds), memory.peak_mb


def parse_only(url: str, ends: dict[tuple[str, int], int], rows: int, repeat: int) -> str:
    lines = []
    for provider in ("polygon", "alpaca"):
        for kind in KINDS:
            span = (SESSION_OPEN, ends[kind.value, rows])
            for name in parsers(url, provider, kind):
                got = in_child(measure_parser, url, provider, kind, span, name, repeat)
                lines.append((provider, kind, name, *got))
                print(" | ".join(map(str, lines[-1])), file=sys.stderr)
    rows_out = []
    for provider, kind, name, pages, count, median, peak in lines:
        ours = next(
            m for p, k, n, _, _, m, _ in lines if (p, k) == (provider, kind) and "CIFT" in n
        )
        speed, ratio = f"{count / median / 1e6:.2f}", f"{median / ours:.1f}"
        what, millis = f"{provider} {kind.value}", f"{median * 1000:.0f}"
        rows_out.append([what, name, f"{pages}", f"{count:,}", millis, speed, ratio, f"{peak:.0f}"])
    header = ["data", "parser", "pages", "rows", "median ms", "M rows/s", "time vs CIFT"]
    header.append("peak MB above start")
    return table("Parse only: page bytes to rows", header, rows_out)


def end_to_end(url: str, ends: dict[tuple[str, int], int], rows: int, repeat: int) -> str:
    rows_out = []
    for name, (provider, _) in CLIENTS.items():
        if sdk_missing(name):
            print(f"{name}: not installed, skipped", file=sys.stderr)
            continue
        for kind in KINDS:
            totals = (rows, 2 * rows) if kind is DataKind.TRADES else (rows,)
            for total in totals:
                span = (SESSION_OPEN, ends[kind.value, total])
                median, count, peak = in_child(measure_client, name, url, kind, span, repeat)
                speed, what = f"{count / median / 1e3:,.0f}", f"{provider} {kind.value}"
                rows_out.append([what, name, f"{count:,}", f"{median:.2f}", speed, f"{peak:,.0f}"])
                print(" | ".join(rows_out[-1]), file=sys.stderr)
    header = ["data", "client", "rows", "median s", "k rows/s", "peak MB above start"]
    return table("End to end over loopback HTTP, one fresh process per client", header, rows_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    context = mp.get_context("spawn")
    queue, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(args.rows, queue, stop), daemon=True)
    server.start()
    try:
        url, ends = queue.get(timeout=900)
        print(f"Machine: {machine()}\n")
        print(parse_only(url, ends, args.rows, args.repeat))
        print(end_to_end(url, ends, args.rows, args.repeat))
    finally:
        stop.set()
        server.join(timeout=30)


if __name__ == "__main__":
    main()
