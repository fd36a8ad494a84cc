"""The QuestDB half of ``bench/store.py``: CIFT's QuestDB backend next to hand-written
QuestDB client code on the same rows and the same server.

Ingest: ``QuestDBStore.write`` (validation, stored-key check, ILP/HTTP, wait until the
rows are applied) next to a hand-written loop over the official client (pandas frame in
chunks, ``Sender.dataframe`` and ``flush``, then the same wait), into identical tables.
Queries: the store's API next to hand-written SQL for the same question, fetched with
psycopg into a Polars frame (what the store's API returns); both run once untimed first.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta

import polars as pl
import psycopg
from questdb import Sender

from cift.core.timeutil import from_ns
from cift.data.store.questdb.client import PgClient
from cift.data.store.questdb.ddl import TableNames
from cift.data.store.questdb.store import QuestDBStore
from cift.model import DataKind, Timeframe

from common import T0, Timing, measure

CHUNK_ROWS = 500_000


def store(pg_url: str, ilp_conf: str, prefix: str | None = None) -> QuestDBStore:
    """A store on its own table prefix, so runs never meet each other's tables."""
    names = TableNames(prefix or f"bench_{uuid.uuid4().hex[:8]}_")
    return QuestDBStore(PgClient(pg_url), ilp_conf, names)


def drop(target: QuestDBStore) -> None:
    for name in sorted(target.tables()):
        if name.startswith(target.names.prefix):
            target.client.execute(f"DROP TABLE IF EXISTS {name}")
    target.ilp.close()
    target.client.close()


def hand_written_ingest(frame: pl.DataFrame, pg_url: str, ilp_conf: str, table: str) -> None:
    """What a user of the official client writes: pandas chunks through one sender,
    then wait until QuestDB has applied the write-ahead log."""
    rows = frame.with_columns(pl.col("ts").dt.replace_time_zone(None)).to_pandas()
    with Sender.from_conf(ilp_conf) as sender:
        for begin in range(0, len(rows), CHUNK_ROWS):
            chunk = rows.iloc[begin : begin + CHUNK_ROWS]
            sender.dataframe(chunk, table_name=table, symbols=["symbol", "exchange"], at="ts")
            sender.flush()
    wait_applied(pg_url, table)


def wait_applied(pg_url: str, table: str) -> None:
    """Wait until QuestDB has applied every write-ahead-log transaction of ``table``."""
    with psycopg.connect(pg_url, autocommit=True) as connection:
        while True:
            writer, sequencer = connection.execute(
                'SELECT "writerTxn", "sequencerTxn" FROM wal_tables() WHERE name = %s', (table,)
            ).fetchone() or (0, 0)
            if writer >= sequencer:
                return
            time.sleep(0.05)


def ingest(frame: pl.DataFrame, pg_url: str, ilp_conf: str, repeat: int) -> tuple[Timing, Timing]:
    """Median times of CIFT's write and of the hand-written loop, each into a new table
    created with the same DDL (designated timestamp, day partitions, dedup keys)."""
    targets: list[QuestDBStore] = []

    def fresh() -> None:
        while targets:
            drop(targets.pop())
        targets.append(store(pg_url, ilp_conf))

    def created() -> str:
        fresh()
        table = targets[0].names.market(DataKind.TRADES, None)
        targets[0].ensure(table)
        return table.name

    ours = measure(
        "CIFT QuestDBStore.write",
        lambda: targets[0].write(DataKind.TRADES, frame),
        repeat=repeat,
        setup=fresh,
    )
    names: list[str] = []
    theirs = measure(
        "hand-written ILP loop (questdb client)",
        lambda: hand_written_ingest(frame, pg_url, ilp_conf, names[-1]),
        repeat=repeat,
        setup=lambda: names.append(created()),
    )
    fresh()
    drop(targets.pop())
    return ours, theirs


def queries(target: QuestDBStore, pg_url: str, repeat: int) -> list[list[str]]:
    """The five store queries through the API and as hand-written QuestDB SQL."""
    trades = target.names.market(DataKind.TRADES, None).name
    quotes = target.names.market(DataKind.QUOTES, None).name
    minute = Timeframe.parse("1m")
    hour_start = from_ns(T0 + 3_600_000_000_000)
    hour_end = hour_start + timedelta(hours=1)
    connection = psycopg.connect(pg_url, autocommit=True)
    bars = (
        "SELECT symbol, ts, first(price) open, max(price) high, min(price) low, "
        "last(price) close, sum(size) volume, sum(price * size) / sum(size) vwap, "
        f"count() trades FROM {trades} {{}} SAMPLE BY 1m ALIGN TO CALENDAR ORDER BY symbol, ts"
    )

    def sql(text: str, *params: object) -> Callable[[], object]:
        def run() -> pl.DataFrame:
            cursor = connection.execute(text, params or None)
            names = [column.name for column in cursor.description or ()]
            return pl.DataFrame(cursor.fetchall(), schema=names, orient="row")

        return run

    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        (
            "1-minute bars, one symbol",
            lambda: target.bars_from_trades(minute, symbols=["S000"]).collect(),
            sql(bars.format("WHERE symbol = %s"), "S000"),
        ),
        (
            "1-minute bars, all symbols",
            lambda: target.bars_from_trades(minute).collect(),
            sql(bars.format("")),
        ),
        (
            "ASOF join trades to quotes, one symbol",
            lambda: target.trades_with_quotes(symbols=["S000"]).collect(),
            sql(
                f"SELECT t.*, q.bid, q.ask, q.bid_size, q.ask_size FROM "
                f"(SELECT * FROM {trades} WHERE symbol = %s) t "
                f"ASOF JOIN (SELECT * FROM {quotes} WHERE symbol = %s) q ON (symbol) "
                "ORDER BY symbol, ts, trade_id",
                "S000",
                "S000",
            ),
        ),
        (
            "latest trade per symbol",
            lambda: target.latest(DataKind.TRADES),
            sql(f"SELECT * FROM {trades} LATEST ON ts PARTITION BY symbol ORDER BY symbol"),
        ),
        (
            "one symbol, one hour",
            lambda: target.read(
                DataKind.TRADES, symbols=["S000"], start=hour_start, end=hour_end
            ).collect(),
            sql(
                f"SELECT * FROM {trades} WHERE symbol = %s AND ts >= %s AND ts < %s "
                "ORDER BY ts, trade_id",
                "S000",
                hour_start,
                hour_end,
            ),
        ),
    ]
    rows = []
    for name, mine, hand in cases:
        mine(), hand()  # QuestDB compiles and caches a plan per SQL text on first use
        ours, theirs = measure(name, mine, repeat=repeat), measure(name, hand, repeat=repeat)
        rows.append(
            [
                name,
                f"{ours.median * 1000:.1f}",
                f"{theirs.median * 1000:.1f}",
                f"{ours.median / theirs.median:.2f}",
            ]
        )
    connection.close()
    return rows
