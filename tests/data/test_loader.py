"""Backfill plans, checkpoints and resume."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from cift.core.errors import ProviderError, ValidationError
from cift.core.settings import Settings
from cift.data.loader import BackfillPlan, Checkpoints, Chunk, backfill
from cift.data.providers.base import RateLimit
from cift.data.store.embedded import EmbeddedStore
from cift.db.engine import session_factory
from cift.model import DataKind, Timeframe
from tests.data.marketdata import random_trades
from tests.schema import migrated_engine

JAN2 = datetime(2024, 1, 2, tzinfo=UTC)


class ScriptedTrades:
    """A provider over a fixed frame that can fail on chosen chunks (a real provider's
    failure modes are covered by the HTTP providers' own tests)."""

    name = "scripted"
    kinds = frozenset({DataKind.TRADES})
    rate_limit: RateLimit | None = None

    def __init__(self, frame: pl.DataFrame, fail_on: set[datetime] | None = None) -> None:
        self.frame = frame
        self.fail_on = fail_on or set()
        self.requests: list[tuple[str, datetime]] = []

    def trades(
        self, symbols: Sequence[str], start: datetime, end: datetime
    ) -> Iterator[pl.DataFrame]:
        self.requests.append((symbols[0], start))
        if start in self.fail_on:
            raise ProviderError(f"upstream down for {start:%Y-%m-%d}")
        ts = pl.col("ts")
        rows = self.frame.filter(pl.col("symbol").is_in(list(symbols)) & (ts >= start) & (ts < end))
        yield from rows.iter_slices(300)

    def bars(self, *args: object) -> Iterator[pl.DataFrame]:
        raise AssertionError("not used")

    quotes = bars

    def close(self) -> None:
        pass


@pytest.fixture
def engine(make_settings) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    settings: Settings = make_settings()
    engine = migrated_engine(settings)
    yield engine
    engine.dispose()


def plan(**overrides: object) -> BackfillPlan:
    values: dict[str, object] = {
        "provider": "scripted",
        "kind": DataKind.TRADES,
        "symbols": ("AAPL", "MSFT"),
        "start": JAN2,
        "end": JAN2 + timedelta(days=3),
    }
    values.update(overrides)
    return BackfillPlan(**values)  # type: ignore[arg-type]


def test_chunks_cover_the_range_exactly_once() -> None:
    chunks = plan(chunk=timedelta(hours=10)).chunks()
    assert len(chunks) == 2 * 8
    for symbol in ("AAPL", "MSFT"):
        own = [c for c in chunks if c.symbol == symbol]
        assert own[0].start == JAN2
        assert own[-1].end == JAN2 + timedelta(days=3)
        assert all(a.end == b.start for a, b in itertools.pairwise(own))


def test_default_chunk_lengths_follow_the_data() -> None:
    assert plan().chunk_length == timedelta(days=1)
    minute = plan(kind=DataKind.BARS, timeframe=Timeframe.parse("1m"))
    assert minute.chunk_length == timedelta(days=30)
    daily = plan(kind=DataKind.BARS, timeframe=Timeframe.parse("1d"))
    assert daily.chunk_length > timedelta(days=365)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"symbols": ()}, "at least one symbol"),
        ({"end": JAN2}, "empty"),
        ({"kind": DataKind.BARS}, "timeframe"),
        ({"timeframe": Timeframe.parse("1m")}, "timeframe"),
        ({"start": datetime(2024, 1, 2)}, "time zone"),
        ({"symbols": ("AAPL", "..")}, "a symbol is"),
        ({"symbols": (".",)}, "a symbol is"),
    ],
)
def test_bad_plans_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        plan(**overrides)


def test_backfill_stores_everything_and_a_rerun_fetches_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    trades = random_trades(
        5_000, ["AAPL", "MSFT"], start=int(JAN2.timestamp()) * 10**9, span_ns=3 * 86_400 * 10**9
    )
    store = EmbeddedStore(tmp_path / "market")
    checkpoints = Checkpoints(session_factory(engine))
    provider = ScriptedTrades(trades)
    seen: list[tuple[Chunk, int, bool]] = []
    result = backfill(
        provider,
        store,
        checkpoints,
        plan(),
        concurrency=3,
        on_progress=lambda c, n, done: seen.append((c, n, done)),
    )
    assert result.chunks_done == 6
    assert result.rows_written == 5_000
    assert sum(n for _, n, _ in seen) == 5_000
    assert sum(done for *_, done in seen) == 6
    assert store.read(DataKind.TRADES).collect().height == 5_000
    provider.requests.clear()
    again = backfill(provider, store, checkpoints, plan(), concurrency=3)
    assert again.chunks_skipped == 6
    assert again.chunks_done == 0
    assert provider.requests == []


def test_a_failed_chunk_is_retried_on_the_next_run_without_duplicates(
    engine: Engine, tmp_path: Path
) -> None:
    trades = random_trades(
        4_000, ["AAPL", "MSFT"], start=int(JAN2.timestamp()) * 10**9, span_ns=3 * 86_400 * 10**9
    )
    store = EmbeddedStore(tmp_path / "market")
    checkpoints = Checkpoints(session_factory(engine))
    broken = ScriptedTrades(trades, fail_on={JAN2 + timedelta(days=1)})
    with pytest.raises(ProviderError, match="upstream down"):
        backfill(broken, store, checkpoints, plan(), concurrency=1)
    partial = store.read(DataKind.TRADES).collect().height
    assert 0 < partial < 4_000
    healed = ScriptedTrades(trades)
    result = backfill(healed, store, checkpoints, plan(), concurrency=2)
    assert result.chunks_skipped >= 1
    stored = store.read(DataKind.TRADES).collect()
    assert stored.height == 4_000
    assert stored.select(pl.struct("symbol", "ts", "trade_id").is_unique().all()).item()


def test_stop_event_ends_the_run_without_recording_unfinished_chunks(
    engine: Engine, tmp_path: Path
) -> None:
    trades = random_trades(
        3_000, ["AAPL"], start=int(JAN2.timestamp()) * 10**9, span_ns=3 * 86_400 * 10**9
    )
    store = EmbeddedStore(tmp_path / "market")
    checkpoints = Checkpoints(session_factory(engine))
    stop = threading.Event()
    stop.set()
    backfill(ScriptedTrades(trades), store, checkpoints, plan(symbols=("AAPL",)), stop=stop)
    assert checkpoints.done(plan(symbols=("AAPL",))) == set()
