"""The QuestDB store up to the wire: the official client's ILP/HTTP requests (captured by
a local server), the DDL, the SQL with its bound parameters, and the mapping of rows as
psycopg returns them. No QuestDB server runs here."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cift.core.errors import ConfigurationError, NotFoundError, UpstreamError, ValidationError
from cift.data.aggregate import trades_to_bars
from cift.data.store import open_store
from cift.data.store.base import MarketStore
from cift.data.store.embedded import EmbeddedStore
from cift.data.store.questdb import sql
from cift.data.store.questdb.client import PgClient
from cift.data.store.questdb.ddl import features_table_name, market_table
from cift.data.store.questdb.store import QuestDBStore
from cift.model import KEY_COLUMNS, SCHEMAS, DataKind, Timeframe
from cift.model.validation import Reason
from tests.conftest import SettingsFactory
from tests.data.marketdata import DAY_NS, T0, random_quotes, random_trades
from tests.data.store.questdb_fakes import FakeSql
from tests.data.store.questdb_ilp_server import Capture, ilp_server, value

SYMBOLS = ["AAPL", "MSFT", "BTC/USD"]
KEYS = list(KEY_COLUMNS[DataKind.TRADES])
ONE_MINUTE = Timeframe.parse("1m")


def at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 10**9, tz=UTC).replace(microsecond=(ns % 10**9) // 1000)


def iso(ns: int) -> str:
    """The nanosecond ISO text, computed by numpy (independently of the store)."""
    return str(np.datetime_as_string(np.datetime64(ns, "ns"), unit="ns")) + "Z"


def wire_rows(frame: pl.DataFrame) -> list[tuple[object, ...]]:
    """A frame's rows as psycopg returns them from QuestDB: ``ts`` as int ns."""
    return frame.with_columns(pl.col("ts").dt.epoch("ns")).rows()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def ilp() -> Iterator[Capture]:
    with ilp_server() as capture:
        yield capture


@pytest.fixture
def fake() -> FakeSql:
    return FakeSql()


@pytest.fixture
def store(fake: FakeSql, ilp: Capture) -> QuestDBStore:
    return QuestDBStore(fake, ilp.conf)


def sent_trades(capture: Capture) -> pl.DataFrame:
    """The trades in the captured ILP bodies, parsed independently of the store."""
    rows = [
        {
            "symbol": line.tags["symbol"],
            "ts": line.ts,
            "price": value(line.fields["price"]),
            "size": value(line.fields["size"]),
            "side": value(line.fields["side"]),
            "trade_id": value(line.fields["trade_id"]),
            "exchange": line.tags.get("exchange"),
            "conditions": value(line.fields["conditions"]) if "conditions" in line.fields else None,
        }
        for line in capture.lines()
    ]
    frame = pl.DataFrame(rows, schema_overrides={"ts": pl.Int64, "side": pl.Int64})
    return frame.with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC"))).cast(
        SCHEMAS[DataKind.TRADES]
    )


# DDL ---------------------------------------------------------------------------------


def test_satisfies_the_store_protocol(store: QuestDBStore) -> None:
    assert isinstance(store, MarketStore)


def test_trades_table_ddl_has_designated_ns_timestamp_wal_and_dedup_keys() -> None:
    assert market_table(DataKind.TRADES, None).create_sql() == (
        'CREATE TABLE IF NOT EXISTS "cift_trades" (\n'
        '    "symbol" SYMBOL,\n    "ts" TIMESTAMP_NS,\n    "price" DOUBLE,\n'
        '    "size" DOUBLE,\n    "side" BYTE,\n    "trade_id" VARCHAR,\n'
        '    "exchange" SYMBOL,\n    "conditions" VARCHAR\n'
        ') TIMESTAMP("ts") PARTITION BY DAY WAL\n'
        'DEDUP UPSERT KEYS("ts", "symbol", "trade_id")'
    )


@pytest.mark.parametrize(
    ("kind", "timeframe", "name", "tail"),
    [
        (
            DataKind.QUOTES,
            None,
            "cift_quotes",
            'PARTITION BY DAY WAL\nDEDUP UPSERT KEYS("ts", "symbol")',
        ),
        (
            DataKind.BARS,
            "1m",
            "cift_bars_1m",
            'PARTITION BY MONTH WAL\nDEDUP UPSERT KEYS("ts", "symbol")',
        ),
        (
            DataKind.BARS,
            "1d",
            "cift_bars_1d",
            'PARTITION BY YEAR WAL\nDEDUP UPSERT KEYS("ts", "symbol")',
        ),
    ],
)
def test_every_kind_has_its_table(
    kind: DataKind, timeframe: str | None, name: str, tail: str
) -> None:
    table = market_table(kind, Timeframe.parse(timeframe) if timeframe else None)
    ddl = table.create_sql()
    assert ddl.startswith(f'CREATE TABLE IF NOT EXISTS "{name}"')
    assert ddl.endswith(tail)
    assert list(table.columns) == list(SCHEMAS[kind])


def test_bars_need_a_timeframe_and_ticks_refuse_one() -> None:
    with pytest.raises(ValidationError, match="timeframe"):
        market_table(DataKind.BARS, None)
    with pytest.raises(ValidationError, match="no timeframe"):
        market_table(DataKind.TRADES, ONE_MINUTE)


# SQL ---------------------------------------------------------------------------------


@given(st.integers(0, 2**62))
def test_time_parameters_carry_every_nanosecond(ns: int) -> None:
    assert sql.ts_param(ns) == iso(ns)


def test_range_scan_binds_symbols_and_times(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.add("cift_trades")
    start, end = T0 + 123_456_789, T0 + DAY_NS
    store.read(DataKind.TRADES, symbols=["BTC/USD", "AAPL"], start=at(start), end=at(end)).collect()
    (query,) = fake.texts('FROM "cift_trades"')
    assert query.text == (
        'SELECT "symbol", cast("ts" AS LONG) AS "ts", "price", "size", "side", "trade_id", '
        '"exchange", "conditions" FROM (SELECT * FROM "cift_trades" WHERE "symbol" IN '
        '(%s, %s) AND "ts" >= %s AND "ts" < %s) ORDER BY "symbol", "ts", "trade_id"'
    )
    assert query.params == ("BTC/USD", "AAPL", iso(T0 + 123_456_000), iso(end))


@pytest.mark.parametrize("bad", ["A'; DROP TABLE cift_trades; --", 'X"Y', "", "A\nB"])
def test_symbols_that_cannot_be_tickers_are_refused(store: QuestDBStore, bad: str) -> None:
    with pytest.raises(ValidationError, match="Invalid symbol"):
        store.read(DataKind.TRADES, symbols=[bad])


def test_reads_are_lazy_and_empty_without_a_table(store: QuestDBStore, fake: FakeSql) -> None:
    frame = store.read(DataKind.QUOTES, symbols=["AAPL"])
    assert fake.queries == []
    assert frame.collect().schema == SCHEMAS[DataKind.QUOTES]
    assert store.read(DataKind.TRADES, symbols=[]).collect().is_empty()
    assert store.coverage().is_empty()
    assert store.latest(DataKind.TRADES).is_empty()


def test_naive_datetimes_are_refused(store: QuestDBStore) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        store.read(DataKind.TRADES, start=datetime(2024, 1, 1))


# ILP ingestion -----------------------------------------------------------------------


def test_write_validates_like_the_embedded_store_and_sends_ilp(
    store: QuestDBStore, fake: FakeSql, ilp: Capture, tmp_path: Path
) -> None:
    trades = random_trades(400, SYMBOLS, span_ns=2 * DAY_NS).with_columns(
        pl.when(pl.col("side") > 0).then(pl.lit("XNAS")).alias("exchange"),
        pl.when(pl.col("side") < 0).then(pl.lit('@ F,"T" =x')).alias("conditions"),
    )
    bad = trades.head(3).with_columns(pl.lit(-1.0).alias("price"), pl.lit("x").alias("trade_id"))
    frame = pl.concat([trades, bad, trades.head(2)])
    result = store.write(DataKind.TRADES, frame)
    reference = EmbeddedStore(tmp_path / "market").write(DataKind.TRADES, frame)
    assert result.report.rejected == {Reason.NON_POSITIVE_PRICE: 3, Reason.DUPLICATE_KEY: 2}
    assert result.report.rejected == reference.report.rejected
    assert (result.rows_written, result.rows_existing) == (400, 0)
    assert result.partitions == reference.partitions
    assert result.symbols == sorted(SYMBOLS)
    assert fake.statements == [market_table(DataKind.TRADES, None).create_sql()]
    assert {line.table for line in ilp.lines()} == {"cift_trades"}
    assert all(path == "/write?precision=n" for path in ilp.paths)
    assert_frame_equal(sent_trades(ilp).sort(KEYS), trades.sort(KEYS))


def test_rows_already_stored_are_not_sent(store: QuestDBStore, fake: FakeSql, ilp: Capture) -> None:
    trades = random_trades(300, SYMBOLS)
    stored = trades.filter(pl.col("symbol") == "MSFT").head(40)
    fake.on(
        r'SELECT cast\("ts" AS LONG\) AS "ts", "trade_id" FROM \(SELECT \* FROM "cift_trades"',
        lambda q: wire_rows(stored.select("ts", "trade_id")) if q.params[0] == "MSFT" else [],
    )
    result = store.write(DataKind.TRADES, trades)
    assert (result.rows_written, result.rows_existing) == (260, 40)
    assert_frame_equal(
        sent_trades(ilp).sort(KEYS), trades.join(stored, on=KEYS, how="anti").sort(KEYS)
    )
    msft = trades.filter(pl.col("symbol") == "MSFT").get_column("ts").dt.epoch("ns")
    checks = fake.texts('"trade_id" FROM (SELECT * FROM "cift_trades" WHERE "symbol" = %s')
    (check,) = [q for q in checks if q.params[0] == "MSFT"]
    assert check.params == ("MSFT", iso(msft.min()), iso(msft.max()))


def test_quotes_over_protocol_2_carry_binary_doubles_and_ns_times(fake: FakeSql) -> None:
    quote = pl.DataFrame(
        {"symbol": ["EURUSD"], "ts": [T0 + 123_456_789], "bid": [1.0812], "ask": [1.0813]}
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    with ilp_server(versions=(1, 2)) as capture:
        QuestDBStore(fake, capture.conf).write(DataKind.QUOTES, quote)
    doubles = b"".join(b"==\x10" + struct.pack("<d", v) for v in (1.0812, 1.0813))
    expected = (
        b"cift_quotes,symbol=EURUSD bid"
        + doubles[:11]
        + b",ask"
        + doubles[11:]
        + b",bid_size==\x10"
        + struct.pack("<d", float("nan"))
        + b",ask_size==\x10"
        + struct.pack("<d", float("nan"))
        + f" {T0 + 123_456_789}n\n".encode()
    )
    assert capture.bodies == [expected]


def test_server_rejection_is_an_upstream_error(store: QuestDBStore, ilp: Capture) -> None:
    ilp.reject = "cast error for line protocol float"
    with pytest.raises(UpstreamError, match="CIFT_QUESTDB_ILP_CONF"):
        store.write(DataKind.TRADES, random_trades(10, ["AAPL"]))


def test_suspended_table_is_an_upstream_error(store: QuestDBStore, fake: FakeSql) -> None:
    fake.on("wal_tables", [(3, 5, True)])
    with pytest.raises(UpstreamError, match="RESUME WAL"):
        store.write(DataKind.TRADES, random_trades(10, ["AAPL"]))


# result mapping ----------------------------------------------------------------------


def test_read_maps_wire_rows_to_the_schema(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.add("cift_quotes")
    quotes = random_quotes(50, SYMBOLS).sort("symbol", "ts")
    quotes = quotes.with_columns(
        pl.when(pl.col("bid") > 100).then(pl.col("bid_size")).alias("bid_size")
    )
    rows = wire_rows(quotes)
    rows[0] = (*rows[0][:4], float("nan"), rows[0][5])  # QuestDB's null double
    fake.on('FROM "cift_quotes"', rows)
    got = store.read(DataKind.QUOTES, columns=["symbol", "ts", "bid_size"]).collect()
    expected = quotes.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(None)
        .otherwise(pl.col("bid_size"))
        .alias("bid_size")
    ).select("symbol", "ts", "bid_size")
    assert_frame_equal(got, expected)


@pytest.mark.postgres
def test_pg_client_binds_text_and_maps_real_wire_types(postgres_database: str) -> None:
    url = postgres_database.replace("postgresql+psycopg", "postgresql")
    client = PgClient(url)
    query = sql.Query(
        "SELECT %s::text AS symbol, %s::int8 AS ts, 'NaN'::float8 AS bid, NULL::float8 AS ask, "
        "1::int2 AS side, NULL::int8 AS trades",
        ("BTC/USD", str(T0 + 1)),
    )
    rows = client.rows(query)
    client.close()
    from cift.data.store.questdb.results import to_frame

    schema = pl.Schema(
        {
            "symbol": pl.String(),
            "ts": pl.Datetime("ns", "UTC"),
            "bid": pl.Float64(),
            "ask": pl.Float64(),
            "side": pl.Int8(),
            "trades": pl.Int64(),
        }
    )
    frame = to_frame(rows, schema)
    assert frame.row(0) == ("BTC/USD", datetime(2024, 1, 2, 9, tzinfo=UTC), None, None, 1, None)
    assert frame.get_column("ts").dt.epoch("ns").item() == T0 + 1


def test_latest_trade_is_the_last_by_trade_id_among_ties(
    store: QuestDBStore, fake: FakeSql
) -> None:
    fake.tables.add("cift_trades")
    trades = random_trades(200, ["AAPL", "MSFT"]).sort(KEYS)
    newest = trades.group_by("symbol").agg(pl.col("ts").max())
    tie = trades.join(newest, on=["symbol", "ts"]).with_columns(pl.lit("a-first").alias("trade_id"))
    trades = pl.concat([trades, tie]).sort(KEYS)
    at_newest = trades.join(newest, on=["symbol", "ts"], how="semi")
    by_storage = at_newest.group_by("symbol", maintain_order=True).first().sort("symbol")
    assert by_storage.get_column("trade_id").to_list() == ["a-first", "a-first"]
    fake.on("LATEST ON", wire_rows(by_storage))
    fake.on(r'"ts" IN \(', wire_rows(at_newest))
    got = store.latest(DataKind.TRADES)
    expected = trades.group_by("symbol", maintain_order=True).last().sort("symbol")
    assert_frame_equal(got, expected)
    (latest,) = fake.texts("LATEST ON")
    assert 'LATEST ON "ts" PARTITION BY "symbol"' in latest.text


def test_bars_from_trades_use_sample_by(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.add("cift_trades")
    fake.on("SAMPLE BY", [("AAPL", T0, 10.0, 11.0, 9.0, 10.5, 0.0, None, 2)])
    bars = store.bars_from_trades(Timeframe.parse("5m"), symbols=["AAPL"], start=at(T0)).collect()
    (query,) = fake.texts("SAMPLE BY")
    assert "SAMPLE BY 5m ALIGN TO CALENDAR" in query.text
    assert 'first("price") AS "open"' in query.text
    assert 'count() AS "trades"' in query.text
    assert 'CASE WHEN "volume" > 0 THEN "notional" / "volume" END AS "vwap"' in query.text
    assert query.params == ("AAPL", iso(T0))
    assert bars.schema == SCHEMAS[DataKind.BARS]
    assert bars.row(0)[1:] == (at(T0), 10.0, 11.0, 9.0, 10.5, 0.0, None, 2)


def test_timeframes_that_do_not_divide_a_day_aggregate_in_polars(
    store: QuestDBStore, fake: FakeSql
) -> None:
    fake.tables.add("cift_trades")
    trades = random_trades(500, ["AAPL", "MSFT"]).sort(KEYS)
    fake.on('FROM "cift_trades"', wire_rows(trades))
    seven = Timeframe.parse("7m")
    got = store.bars_from_trades(seven).collect()
    assert not fake.texts("SAMPLE BY")
    assert_frame_equal(got, trades_to_bars(trades.lazy(), seven).collect())
    assert sql.samples_natively(Timeframe.parse("15m"))
    assert not sql.samples_natively(seven)


def test_resample_bars_sql_and_refusal(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.add("cift_bars_1m")
    with pytest.raises(ValidationError, match="whole multiple"):
        store.resample_bars(Timeframe.parse("5m"), Timeframe.parse("7m"))
    store.resample_bars(ONE_MINUTE, Timeframe.parse("1h")).collect()
    (query,) = fake.texts("SAMPLE BY")
    assert 'FROM "cift_bars_1m" SAMPLE BY 1h ALIGN TO CALENDAR' in query.text
    assert 'sum(CASE WHEN "vwap" IS NOT NULL THEN "volume" END) AS "weight"' in query.text


def test_trades_with_quotes_use_asof_join(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.update({"cift_trades", "cift_quotes"})
    row = ("AAPL", T0 + 5, 10.0, 1.0, 1, "t1", None, None, 9.9, 10.1, 5.0, None)
    fake.on("ASOF JOIN", [row])
    joined = store.trades_with_quotes(symbols=["AAPL"], start=at(T0), end=at(T0 + DAY_NS)).collect()
    (query,) = fake.texts("ASOF JOIN")
    assert 'ASOF JOIN (SELECT * FROM "cift_quotes" WHERE' in query.text
    assert 'q ON ("symbol")' in query.text
    assert query.params == (
        "AAPL",
        iso(T0),
        iso(T0 + DAY_NS),
        "AAPL",
        iso(T0 - DAY_NS),
        iso(T0 + DAY_NS),
    )
    assert joined.columns == [*SCHEMAS[DataKind.TRADES], "bid", "ask", "bid_size", "ask_size"]
    assert joined.row(0)[-4:] == (9.9, 10.1, 5.0, None)


def test_trades_without_quotes_get_null_quotes(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.add("cift_trades")
    trades = random_trades(20, ["AAPL"]).sort(KEYS)
    fake.on('FROM "cift_trades"', wire_rows(trades))
    joined = store.trades_with_quotes().collect()
    assert joined.select("bid", "ask", "bid_size", "ask_size").null_count().row(0) == (20,) * 4


def test_coverage_groups_each_table_in_embedded_order(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.update({"cift_trades", "cift_bars_1m", "cift_bars_1h", "weather"})
    fake.on('FROM "cift_trades" GROUP BY', [("AAPL", T0, T0 + 9, 3)])
    fake.on('FROM "cift_bars_1m" GROUP BY', [("AAPL", T0, T0 + 60 * 10**9, 2)])
    fake.on('FROM "cift_bars_1h" GROUP BY', [("MSFT", T0, T0, 1)])
    coverage = store.coverage()
    assert coverage.select("kind", "timeframe", "symbol", "rows").rows() == [
        ("bars", "1h", "MSFT", 1),
        ("bars", "1m", "AAPL", 2),
        ("trades", None, "AAPL", 3),
    ]
    last = coverage.get_column("last").dt.epoch("ns").to_list()
    assert last == [T0, T0 + 60 * 10**9, T0 + 9]
    assert store.coverage(DataKind.TRADES).height == 1


# delete and compact ------------------------------------------------------------------


def test_delete_rewrites_touched_partitions(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.add("cift_trades")
    fake.on(r"SELECT count\(\) FROM \"cift_trades\" WHERE \"symbol\"", [(12,)])
    fake.on("table_partitions", [("2024-01-01", 5), ("2024-01-02", 40), ("2024-01-03", 30)])
    fake.on(
        r"SELECT count\(\) FROM \"cift_trades\" WHERE \"ts\" >= %s AND \"ts\" < %s AND NOT", [(58,)]
    )
    fake.on('FROM "cift_trades__keep"', [(58,)])
    start, end = T0 + 3_600 * 10**9, T0 + DAY_NS
    removed = store.delete(DataKind.TRADES, symbols=["AAPL"], start=at(start), end=at(end))
    assert removed == 12
    day2, day4 = iso(T0 - 9 * 3_600 * 10**9), iso(T0 + 15 * 3_600 * 10**9 + DAY_NS)
    assert fake.statements == [
        'CREATE TABLE "cift_trades__keep" AS (SELECT * FROM "cift_trades" WHERE '
        f"\"ts\" >= '{day2}' AND \"ts\" < '{day4}' AND NOT (\"ts\" >= '{iso(start)}' AND "
        f"\"ts\" < '{iso(end)}' AND \"symbol\" IN ('AAPL')))",
        "ALTER TABLE \"cift_trades\" DROP PARTITION LIST '2024-01-02', '2024-01-03'",
        'INSERT INTO "cift_trades" SELECT * FROM "cift_trades__keep"',
        'DROP TABLE "cift_trades__keep"',
    ]


def test_delete_of_whole_partitions_only_drops_them(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.add("cift_trades")
    fake.on(r"SELECT count\(\) FROM \"cift_trades\"$", [(100,)])
    fake.on("table_partitions", [("2024-01-01", 60), ("2024-01-02", 40)])
    fake.on("AND NOT", [(0,)])
    assert store.delete(DataKind.TRADES) == 100
    assert fake.statements == [
        "ALTER TABLE \"cift_trades\" DROP PARTITION LIST '2024-01-01', '2024-01-02'"
    ]


def test_incomplete_copy_deletes_nothing(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.add("cift_trades")
    fake.on(r"^SELECT count\(\) FROM \"cift_trades\" WHERE \"symbol\" IN \(%s\)$", [(3,)])
    fake.on("table_partitions", [("2024-01-02", 40)])
    fake.on("AND NOT", [(37,)])
    fake.on('FROM "cift_trades__keep"', [(36,)])
    with pytest.raises(UpstreamError, match="nothing was deleted"):
        store.delete(DataKind.TRADES, symbols=["AAPL"])
    assert not any("DROP PARTITION" in s for s in fake.statements)


def test_a_leftover_side_table_is_restored_first(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.update({"cift_trades", "cift_trades__keep"})
    assert store.delete(DataKind.TRADES, symbols=["AAPL"]) == 0
    assert fake.statements == [
        'INSERT INTO "cift_trades" SELECT * FROM "cift_trades__keep"',
        'DROP TABLE "cift_trades__keep"',
    ]


def test_compact_squashes_split_partitions(store: QuestDBStore, fake: FakeSql) -> None:
    fake.tables.update({"cift_trades", "cift_quotes"})
    listings = iter(
        [
            [("2024-01-02", 10), ("2024-01-02T120000-000007", 5), ("2024-01-03", 7)],
            [("2024-01-02", 15), ("2024-01-03", 7)],
        ]
    )
    fake.on("table_partitions\\('cift_trades'\\)", lambda _: next(listings))
    fake.on("table_partitions\\('cift_quotes'\\)", [("2024-01-02", 4)])
    result = store.compact()
    assert (result.partitions, result.files_before, result.files_after, result.rows) == (
        1,
        4,
        3,
        26,
    )
    assert fake.statements == ['ALTER TABLE "cift_trades" SQUASH PARTITIONS']


# feature values ----------------------------------------------------------------------


def test_feature_values_are_tagged_with_their_set_id(
    store: QuestDBStore, fake: FakeSql, ilp: Capture
) -> None:
    values = pl.DataFrame(
        {"symbol": ["AAPL", "AAPL"], "ts": [T0, T0 + 60 * 10**9], "rsi": [55.5, None], "n": [3, 4]}
    ).with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC")))
    assert store.write_features("default-8f7641726a11", values) == 2
    table = features_table_name("default-8f7641726a11")
    assert fake.statements[0] == (
        f'CREATE TABLE IF NOT EXISTS "{table}" (\n    "symbol" SYMBOL,\n    "ts" TIMESTAMP_NS,'
        '\n    "set_id" SYMBOL,\n    "rsi" DOUBLE,\n    "n" LONG\n) TIMESTAMP("ts") PARTITION BY '
        'MONTH WAL\nDEDUP UPSERT KEYS("ts", "symbol")'
    )
    lines = ilp.lines()
    assert [(line.tags, line.ts) for line in lines] == [
        ({"symbol": "AAPL", "set_id": "default-8f7641726a11"}, T0),
        ({"symbol": "AAPL", "set_id": "default-8f7641726a11"}, T0 + 60 * 10**9),
    ]
    assert lines[0].fields == {"rsi": "55.5", "n": "3i"}
    assert lines[1].fields["rsi"] == "NaN"


def test_read_features_and_list_sets(store: QuestDBStore, fake: FakeSql) -> None:
    with pytest.raises(NotFoundError, match="cift features ls"):
        store.read_features("nope")
    table = features_table_name("s-1")
    fake.tables.add(table)
    fake.on(
        "table_columns",
        [
            ("symbol", "SYMBOL"),
            ("ts", "TIMESTAMP_NS"),
            ("set_id", "SYMBOL"),
            ("rsi", "DOUBLE"),
            ("n", "LONG"),
        ],
    )
    fake.on(f'FROM "{table}" WHERE', [("AAPL", T0, 50.0, 1)])
    fake.on(f'FROM "{table}" GROUP BY', [("s-1", "AAPL", T0, T0 + 5, 2)])
    frame = store.read_features("s-1", symbols=["AAPL"]).collect()
    assert frame.columns == ["symbol", "ts", "rsi", "n"]
    assert frame.row(0) == ("AAPL", at(T0), 50.0, 1)
    (query,) = fake.texts(f'FROM "{table}" WHERE')
    assert query.params == ("s-1", "AAPL")
    assert store.feature_sets().rows() == [("s-1", "AAPL", at(T0), at(T0 + 5), 2)]


def test_feature_columns_questdb_cannot_name_are_refused(store: QuestDBStore) -> None:
    values = pl.DataFrame({"symbol": ["A"], "ts": [T0], "bad name": [1.0]})
    with pytest.raises(ValidationError, match="cannot be a QuestDB"):
        store.write_features("s", values.with_columns(pl.col("ts").cast(pl.Datetime("ns", "UTC"))))


# connections, settings and readiness -------------------------------------------------


def test_ping_reaches_both_endpoints(store: QuestDBStore, fake: FakeSql) -> None:
    fake.on(r"build\(\)", [("Build Information: QuestDB 9.1.0, JDK 17.0.9, Commit Hash abc",)])
    fake.tables.add("cift_trades")
    assert store.ping() == "QuestDB 9.1.0 at fake:8812, ILP v1, 1 CIFT tables"


def test_ping_names_the_setting_when_the_server_is_down() -> None:
    port = closed_port()
    client = PgClient(f"postgresql://admin:quest@127.0.0.1:{port}/qdb", connect_timeout=2)
    store = QuestDBStore(client, f"http::addr=127.0.0.1:{port};")
    with pytest.raises(UpstreamError, match=f"127.0.0.1:{port}.*CIFT_QUESTDB_PG_URL"):
        store.ping()
    client.close()
    sql_up = FakeSql()
    sql_up.on(r"build\(\)", [("QuestDB 9.1.0",)])
    with pytest.raises(UpstreamError, match="CIFT_QUESTDB_ILP_CONF"):
        QuestDBStore(sql_up, f"http::addr=127.0.0.1:{port};").ping()


def test_malformed_settings_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="CIFT_QUESTDB_PG_URL"):
        PgClient("not a url at all")
    sql_up = FakeSql()
    sql_up.on(r"build\(\)", [("QuestDB 9.1.0",)])
    store = QuestDBStore(sql_up, "htp::addr=127.0.0.1:9000;")
    with pytest.raises(ConfigurationError, match="CIFT_QUESTDB_ILP_CONF"):
        store.ping()


def test_open_store_chooses_questdb_and_readiness_reports_it_down(
    make_settings: SettingsFactory,
) -> None:
    from fastapi.testclient import TestClient

    from cift.api.app import create_app
    from tests.api.conftest import migrated

    port = closed_port()
    settings = make_settings(
        market_store="questdb",
        questdb_pg_url=f"postgresql://admin:quest@127.0.0.1:{port}/qdb",
        questdb_ilp_conf=f"http::addr=127.0.0.1:{port};",
        health_timeout_seconds=5,
    )
    store = open_store(settings)
    assert isinstance(store, QuestDBStore)
    store.close()
    with TestClient(create_app(migrated(settings))) as client:
        response = client.get("/health/ready")
    assert response.status_code == 503
    check = response.json()["checks"]["market_store"]
    assert check["status"] == "down"
    assert "CIFT_QUESTDB_PG_URL" in check["detail"]
    assert "quest@" not in check["detail"]
