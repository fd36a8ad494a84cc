"""Prometheus metrics of ingest (backfills and the REST providers under them) and of the
market-data stores, labelled by provider or backend and data kind."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

from cift.core.metrics import counter, histogram

if TYPE_CHECKING:
    from cift.data.store.base import WriteResult
    from cift.model import DataKind

W = TypeVar("W", bound=Callable[..., "WriteResult"])

_PROVIDER = ("provider",)
_STORE = ("backend", "kind")

INGEST_ROWS = counter(
    "ingest", "", "rows", "Rows a backfill fetched from a provider.", ("provider", "kind")
)
INGEST_PAGES = counter(
    "ingest", "", "pages", "Pages (successful HTTP answers) received from a provider.", _PROVIDER
)
INGEST_RETRIES = counter(
    "ingest", "", "retries", "Requests to a provider sent again after a transient failure.",
    _PROVIDER,
)  # fmt: skip
INGEST_RATE_LIMIT_WAIT = counter(
    "ingest", "rate_limit_wait", "seconds",
    "Time spent waiting for a provider's rate limit (own throttle and 429 answers).", _PROVIDER,
)  # fmt: skip
INGEST_GAPS = counter(
    "ingest", "", "gaps",
    "Chunks of a backfill for which the provider had no rows (a gap in its history, or a "
    "closed market).",
    ("provider", "kind"),
)  # fmt: skip

STORE_WRITTEN = counter("store", "written", "rows", "Rows written (new ones only).", _STORE)
STORE_DUPLICATES = counter(
    "store", "duplicate", "rows", "Rows not written because the store held their key.", _STORE
)
STORE_WRITE_DURATION = histogram(
    "store", "write_duration", "seconds", "Time to validate and write one batch.", _STORE
)
STORE_QUERY_DURATION = histogram(
    "store", "query_duration", "seconds",
    "Time a store spends answering a query: the SQL round trip for QuestDB, finding the "
    "files for the embedded store (Polars then reads them).", _STORE,
)  # fmt: skip


def record_write(backend: str, kind: str, written: int, existing: int, seconds: float) -> None:
    """Count one store write."""
    STORE_WRITTEN.labels(backend, kind).inc(written)
    STORE_DUPLICATES.labels(backend, kind).inc(existing)
    STORE_WRITE_DURATION.labels(backend, kind).observe(seconds)


@contextmanager
def timed_query(backend: str, kind: str) -> Iterator[None]:
    """Time the block as one query of the store."""
    began = time.perf_counter()
    try:
        yield
    finally:
        STORE_QUERY_DURATION.labels(backend, kind).observe(time.perf_counter() - began)


def measured_write(method: W) -> W:
    """Count and time a store's ``write(kind, frame, ...)`` (rows new and already held)."""

    @functools.wraps(method)
    def write(store: Any, kind: DataKind, frame: Any, **options: Any) -> WriteResult:
        began = time.perf_counter()
        result: WriteResult = method(store, kind, frame, **options)
        seconds = time.perf_counter() - began
        record_write(store.backend, kind.value, result.rows_written, result.rows_existing, seconds)
        return result

    return cast(W, write)
