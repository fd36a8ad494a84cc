"""Backfill: fetch a provider's history chunk by chunk into the store, resumably.

The range of each symbol is cut into chunks aligned to the start. Chunks are fetched
concurrently (the provider's own throttle keeps requests within its rate limit), written
page by page (memory stays bounded by the page size), and recorded as checkpoints in the
metadata database once all their rows are stored. A re-run skips recorded chunks; a chunk
cut short by Ctrl-C or SIGKILL is fetched again, and the store ignores the rows it holds
already, so the result has no gap and no duplicate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import ValidationError
from cift.data.metrics import INGEST_GAPS, INGEST_ROWS
from cift.data.providers.base import MarketDataProvider, check_range, fetch
from cift.data.store.base import MarketStore
from cift.db.base import utcnow
from cift.db.models import BackfillCheckpoint
from cift.model import DataKind, Timeframe
from cift.model.validation import ValidationReport, check_symbols


@dataclass(frozen=True)
class Chunk:
    """One symbol over ``[start, end)``."""

    symbol: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class BackfillPlan:
    """What to fetch: one provider, kind and timeframe for some symbols over a range."""

    provider: str
    kind: DataKind
    symbols: tuple[str, ...]
    start: datetime
    end: datetime
    timeframe: Timeframe | None = None
    chunk: timedelta | None = None

    def __post_init__(self) -> None:
        check_range(self.start, self.end)
        if not self.symbols:
            raise ValidationError("Name at least one symbol, e.g. --symbols AAPL,MSFT.")
        check_symbols(self.symbols)  # before any provider is asked or any folder named
        if (self.kind is DataKind.BARS) != (self.timeframe is not None):
            raise ValidationError(
                f"Bars need a timeframe (e.g. --timeframe 1Min) and only bars take one; "
                f"got kind {self.kind.value} with timeframe {self.timeframe or 'none'}."
            )
        if self.chunk is not None and self.chunk <= timedelta(0):
            raise ValidationError("The chunk length must be positive, e.g. 1d.")

    @property
    def chunk_length(self) -> timedelta:
        """The chunk length asked for, or one suited to the kind and timeframe."""
        if self.chunk is not None:
            return self.chunk
        if self.timeframe is None:
            return timedelta(days=1)
        if self.timeframe.nanos < 3_600 * 10**9:
            return timedelta(days=30)
        if self.timeframe.nanos < 86_400 * 10**9:
            return timedelta(days=180)
        return timedelta(days=5 * 365)

    def chunks(self) -> list[Chunk]:
        """Every chunk of the plan, symbol by symbol, oldest first."""
        result = []
        for symbol in self.symbols:
            low = self.start
            while low < self.end:
                high = min(low + self.chunk_length, self.end)
                result.append(Chunk(symbol, low, high))
                low = high
        return result


@dataclass
class BackfillResult:
    """What a backfill run did."""

    chunks_total: int
    chunks_skipped: int = 0
    chunks_done: int = 0
    rows_written: int = 0
    rows_existing: int = 0
    report: ValidationReport | None = None


Progress = Callable[[Chunk, int, bool], None]
"""Called after each page with (chunk, rows in the page, False) and once more with
(chunk, 0, True) when the chunk is recorded."""


class Checkpoints:
    """Backfill checkpoints in the metadata database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def done(self, plan: BackfillPlan) -> set[tuple[str, datetime, datetime]]:
        """(symbol, start, end) of the plan's chunks already stored."""
        query = select(
            BackfillCheckpoint.symbol, BackfillCheckpoint.chunk_start, BackfillCheckpoint.chunk_end
        ).where(
            BackfillCheckpoint.provider == plan.provider,
            BackfillCheckpoint.kind == plan.kind.value,
            BackfillCheckpoint.timeframe == str(plan.timeframe or ""),
            BackfillCheckpoint.symbol.in_(plan.symbols),
        )
        with self.sessions() as session:
            return {(s, a, b) for s, a, b in session.execute(query)}

    def record(self, plan: BackfillPlan, chunk: Chunk, rows: int) -> None:
        """Mark ``chunk`` as stored."""
        with self.sessions() as session, session.begin():
            session.add(
                BackfillCheckpoint(
                    provider=plan.provider,
                    kind=plan.kind.value,
                    timeframe=str(plan.timeframe or ""),
                    symbol=chunk.symbol,
                    chunk_start=chunk.start,
                    chunk_end=chunk.end,
                    rows=rows,
                    completed_at=utcnow(),
                )
            )


def backfill(
    provider: MarketDataProvider,
    store: MarketStore,
    checkpoints: Checkpoints,
    plan: BackfillPlan,
    *,
    concurrency: int = 4,
    on_progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> BackfillResult:
    """Fetch every chunk of ``plan`` not yet recorded, store it, and record it."""
    if concurrency < 1:
        raise ValidationError("Concurrency must be at least 1.")
    chunks = plan.chunks()
    done = checkpoints.done(plan)
    pending = [c for c in chunks if (c.symbol, c.start, c.end) not in done]
    result = BackfillResult(chunks_total=len(chunks), chunks_skipped=len(chunks) - len(pending))
    lock = threading.Lock()
    stop = stop or threading.Event()

    def run(chunk: Chunk) -> None:
        rows = 0
        pages = fetch(
            provider, plan.kind, [chunk.symbol], chunk.start, chunk.end, timeframe=plan.timeframe
        )
        for page in pages:
            if stop.is_set():
                return
            written = store.write(plan.kind, page, timeframe=plan.timeframe)
            rows += written.report.accepted
            INGEST_ROWS.labels(provider.name, plan.kind.value).inc(page.height)
            with lock:
                result.rows_written += written.rows_written
                result.rows_existing += written.rows_existing
                previous = result.report
                result.report = (
                    written.report if previous is None else previous.merge(written.report)
                )
            if on_progress is not None:
                on_progress(chunk, page.height, False)
        if rows == 0:
            INGEST_GAPS.labels(provider.name, plan.kind.value).inc()
        checkpoints.record(plan, chunk, rows)
        with lock:
            result.chunks_done += 1
        if on_progress is not None:
            on_progress(chunk, 0, True)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="backfill") as pool:
        futures: list[Future[None]] = [pool.submit(run, chunk) for chunk in pending]
        try:
            finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in finished:
                future.result()
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise
    return result
