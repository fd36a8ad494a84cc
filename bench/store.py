"""Ingest and query speed of both store backends next to hand-written peers.

    python bench/store.py [--rows 10000000] [--symbols 100] [--repeat 3] [--no-questdb]

Ingest: CIFT's whole write path (validation, de-duplication, sort, partitioned atomic
files, manifest) next to a raw Polars Parquet write, a raw DuckDB insert from Arrow and
a PostgreSQL COPY (including turning the rows into CSV for it), on the same rows.
Queries: CIFT's store API next to hand-written DuckDB SQL over the same Parquet files.
QuestDB (``make services-up``; addresses as ``CIFT_TEST_QUESTDB_*``): see store_questdb.py.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cift.core.timeutil import from_ns
from cift.data.store.embedded import EmbeddedStore
from cift.model import DataKind, Timeframe

import store_questdb
from common import T0, Timing, machine, measure, quotes, table, trades

PG_URL = os.environ.get(
    "CIFT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
).replace("+psycopg", "")
QUESTDB_PG_URL = os.environ.get(
    "CIFT_TEST_QUESTDB_PG_URL", "postgresql://admin:quest@127.0.0.1:8812/qdb"
)
QUESTDB_ILP_CONF = os.environ.get("CIFT_TEST_QUESTDB_ILP_CONF", "http::addr=127.0.0.1:9000;")


def ingest(frame: pl.DataFrame, work: Path, repeat: int) -> list[Timing]:

    def fresh() -> None:
        shutil.rmtree(work / "ingest", ignore_errors=True)
        (work / "ingest").mkdir(parents=True)

    results = [
        measure(
            "CIFT store.write",
            lambda: EmbeddedStore(work / "ingest" / "cift").write(DataKind.TRADES, frame),
            repeat=repeat,
            setup=fresh,
        ),
        measure(
            "Polars write_parquet (raw)",
            lambda: frame.write_parquet(work / "ingest" / "raw.parquet"),
            repeat=repeat,
            setup=fresh,
        ),
        measure(
            "DuckDB insert from Arrow (raw)",
            lambda: _duckdb_insert(frame, work),
            repeat=repeat,
            setup=fresh,
        ),
        measure(
            "PostgreSQL COPY (with CSV conversion)",
            lambda: _pg_copy(frame),
            repeat=max(1, repeat - 2),
        ),
    ]
    return results


def speeds(results: list[Timing], rows: int, base: Timing) -> list[list[str]]:
    """Table rows: median seconds, rows per second and time relative to ``base``."""
    return [
        [t.name, f"{t.median:.2f}", f"{rows / t.median / 1e6:.2f}", f"{t.median / base.median:.2f}"]
        for t in results
    ]


def _duckdb_insert(frame: pl.DataFrame, work: Path) -> None:
    connection = duckdb.connect(str(work / "ingest" / "raw.duckdb"))
    arrow = frame.to_arrow()  # noqa: F841 (DuckDB reads the local variable by name)
    connection.execute("CREATE TABLE trades AS SELECT * FROM arrow")
    connection.close()


def _pg_copy(frame: pl.DataFrame) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_trades")
        connection.execute(
            "CREATE UNLOGGED TABLE bench_trades (symbol text, ts timestamptz, price float8, "
            "size float8, side int2, trade_id text, exchange text, conditions text)"
        )
        buffer = io.BytesIO()
        frame.write_csv(buffer, include_header=False)
        with connection.cursor().copy("COPY bench_trades FROM STDIN (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        connection.execute("DROP TABLE bench_trades")


def queries(store: EmbeddedStore, repeat: int) -> list[list[str]]:
    files = str(store.root / "data" / "trades" / "*" / "*" / "*.parquet")
    one = str(store.root / "data" / "trades" / "S000" / "*" / "*.parquet")
    quote_files = str(store.root / "data" / "quotes" / "*" / "*" / "*.parquet")
    minute = Timeframe.parse("1m")
    hour_start = from_ns(T0 + 3_600_000_000_000)
    hour_end = hour_start + timedelta(hours=1)
    duck = duckdb.connect()
    bars_sql = (
        "SELECT symbol, time_bucket(INTERVAL 1 minute, ts) AS ts, arg_min(price, ts) AS open, "
        "max(price) AS high, min(price) AS low, arg_max(price, ts) AS close, sum(size) AS volume, "
        "sum(price * size) / sum(size) AS vwap, count(*) AS trades FROM read_parquet('{}') "
        "GROUP BY ALL ORDER BY symbol, ts"
    )
    cases = [
        (
            "1-minute bars, one symbol",
            lambda: store.bars_from_trades(minute, symbols=["S000"]).collect(),
            lambda: duck.sql(bars_sql.format(one)).to_arrow_table(),
        ),
        (
            "1-minute bars, all symbols",
            lambda: store.bars_from_trades(minute).collect(),
            lambda: duck.sql(bars_sql.format(files)).to_arrow_table(),
        ),
        (
            "ASOF join trades to quotes",
            lambda: store.trades_with_quotes().collect(),
            lambda: duck.sql(
                f"SELECT t.*, q.bid, q.ask, q.bid_size, q.ask_size FROM read_parquet('{files}') t "
                f"ASOF LEFT JOIN read_parquet('{quote_files}') q "
                "ON t.symbol = q.symbol AND t.ts >= q.ts"
            ).to_arrow_table(),
        ),
        (
            "latest trade per symbol",
            lambda: store.latest(DataKind.TRADES),
            lambda: duck.sql(
                f"SELECT * FROM read_parquet('{files}') QUALIFY row_number() OVER "
                "(PARTITION BY symbol ORDER BY ts DESC, trade_id DESC) = 1"
            ).to_arrow_table(),
        ),
        (
            "one symbol, one hour",
            lambda: store.read(
                DataKind.TRADES, symbols=["S000"], start=hour_start, end=hour_end
            ).collect(),
            lambda: duck.sql(
                f"SELECT * FROM read_parquet('{one}') WHERE ts >= $1 AND ts < $2 ORDER BY ts",
                params=[hour_start, hour_end],
            ).to_arrow_table(),
        ),
    ]
    rows = []
    for name, ours, theirs in cases:
        mine = measure(name, ours, repeat=repeat)
        sql = measure(name, theirs, repeat=repeat)
        rows.append(
            [
                name,
                f"{mine.median * 1000:.1f}",
                f"{sql.median * 1000:.1f}",
                f"{mine.median / sql.median:.2f}",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--quotes", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-questdb", action="store_true", help="skip the QuestDB half")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cift-bench-"))
    try:
        frame = trades(args.rows, args.symbols)
        print(f"Machine: {machine()}\n")
        embedded = ingest(frame, work, args.repeat)
        title = f"Ingest {args.rows:,} trades of {args.symbols} symbols"
        header = ["path", "median s", "M rows/s"]
        print(table(title, [*header, "time vs CIFT"], speeds(embedded, args.rows, embedded[0])))
        if not args.no_questdb:
            ours, theirs = store_questdb.ingest(
                frame, QUESTDB_PG_URL, QUESTDB_ILP_CONF, args.repeat
            )
            rows = speeds([ours, theirs, embedded[0]], args.rows, theirs)
            print(table(f"{title} into QuestDB", [*header, "time vs hand-written"], rows))
        store = EmbeddedStore(work / "store")
        store.write(DataKind.TRADES, frame)
        quote_rows = quotes(args.quotes, args.symbols)
        store.write(DataKind.QUOTES, quote_rows)
        title = f"Queries over {args.rows:,} trades and {args.quotes:,} quotes"
        print(
            table(
                title,
                ["query", "CIFT ms", "hand-written DuckDB ms", "ratio"],
                queries(store, args.repeat),
            )
        )
        if not args.no_questdb:
            target = store_questdb.store(QUESTDB_PG_URL, QUESTDB_ILP_CONF)
            try:
                target.write(DataKind.TRADES, frame)
                target.write(DataKind.QUOTES, quote_rows)
                rows = store_questdb.queries(target, QUESTDB_PG_URL, args.repeat)
                header = ["query", "CIFT ms", "hand-written QuestDB SQL ms", "ratio"]
                print(table(f"{title} in QuestDB", header, rows))
            finally:
                store_questdb.drop(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
