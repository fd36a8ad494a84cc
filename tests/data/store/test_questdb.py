"""What only the QuestDB backend has, checked on the real server: its tables as QuestDB
describes them, deduplication in the engine, the server's own errors, suspended tables,
delete recovery, table prefixes and readiness. Faults a healthy server never shows (an
ingestion endpoint that refuses or drops writes) come from a local endpoint instead. The
behaviour both backends share is in test_contract.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from cift.core.errors import ConfigurationError, UpstreamError, ValidationError
from cift.data.store import open_store
from cift.data.store.questdb import sql
from cift.data.store.questdb.client import PgClient, Row
from cift.data.store.questdb.ddl import COLUMN_TYPES, TableNames
from cift.data.store.questdb.ingest import ilp_frame, wait_applied
from cift.data.store.questdb.store import QuestDBStore
from cift.model import KEY_COLUMNS, DataKind, Timeframe
from tests.conftest import SettingsFactory
from tests.data.marketdata import DAY_NS, T0, random_trades
from tests.data.store.questdb_ilp_server import faulty_ilp_endpoint
from tests.serving import free_port

SYMBOLS = ["AAPL", "MSFT", "BTC/USD"]
KEYS = list(KEY_COLUMNS[DataKind.TRADES])
QuestDBFactory = Callable[[], QuestDBStore]


def at(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 10**9, tz=UTC).replace(microsecond=(ns % 10**9) // 1000)


def table_facts(store: QuestDBStore, name: str) -> tuple[object, ...]:
    query = sql.Query(
        'SELECT "designatedTimestamp", "partitionBy", "walEnabled", "dedup" FROM tables() '
        "WHERE table_name = %s",
        (name,),
    )
    (row,) = store.client.rows(query)
    return tuple(row)


def count(store: QuestDBStore, name: str) -> int:
    return int(store.client.rows(sql.Query(f'SELECT count() FROM "{name}"'))[0][0])


# tables ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "timeframe", "partition"),
    [
        (DataKind.TRADES, None, "DAY"),
        (DataKind.QUOTES, None, "DAY"),
        (DataKind.BARS, "1m", "MONTH"),
        (DataKind.BARS, "1d", "YEAR"),
    ],
)
def test_tables_have_a_ns_designated_timestamp_partitions_wal_and_dedup_keys(
    questdb_store: QuestDBStore, kind: DataKind, timeframe: str | None, partition: str
) -> None:
    table = questdb_store.names.market(kind, Timeframe.parse(timeframe) if timeframe else None)
    questdb_store.ensure(table)
    assert table_facts(questdb_store, table.name) == ("ts", partition, True, True)
    columns = questdb_store.client.rows(sql.columns_of(table.name))
    assert dict(columns) == COLUMN_TYPES[kind]
    (ddl,) = questdb_store.client.rows(sql.Query(f'SHOW CREATE TABLE "{table.name}"'))[0]
    keys = ddl.split("DEDUP UPSERT KEYS(")[1].split(")")[0].split(",")
    assert sorted(keys) == sorted(KEY_COLUMNS[kind])


def test_the_engine_itself_keeps_one_row_per_key(questdb_store: QuestDBStore) -> None:
    """Rows sent twice around the store's own check (two racing writers) stay single; the
    later values win, as ``UPSERT`` says."""
    trades = random_trades(500, SYMBOLS)
    questdb_store.write(DataKind.TRADES, trades)
    table = questdb_store.names.market(DataKind.TRADES, None)
    repriced = trades.with_columns(pl.col("price") + 1.0)
    questdb_store.ilp.send(table.name, ilp_frame(repriced, table), table.symbols)
    questdb_store.ilp.send(table.name, ilp_frame(repriced, table), table.symbols)
    wait_applied(questdb_store.client, table)
    stored = questdb_store.read(DataKind.TRADES).collect()
    assert_frame_equal(stored, repriced.sort(KEYS))


def test_prefixes_keep_installations_apart(questdb_factory: QuestDBFactory) -> None:
    first, second = questdb_factory(), questdb_factory()
    first.write(DataKind.TRADES, random_trades(50, ["AAPL"]))
    second.write(DataKind.TRADES, random_trades(70, ["MSFT"]))
    assert first.coverage().select("symbol", "rows").rows() == [("AAPL", 50)]
    assert second.coverage().select("symbol", "rows").rows() == [("MSFT", 70)]
    assert first.ping().endswith(f"1 {first.names.prefix}* tables")
    with pytest.raises(ValidationError, match="table prefix"):
        TableNames("Bad-Prefix")


# errors the server reports -----------------------------------------------------------


def pd_frame_with_text_side() -> object:
    """A trade whose ``side`` is text, which the BYTE column cannot take."""
    import pandas as pd

    return pd.DataFrame(
        {"symbol": ["AAPL"], "ts": [pd.Timestamp(T0, unit="ns")], "price": [1.0], "side": ["x"]}
    )


def test_the_servers_refusal_of_a_write_is_an_upstream_error(questdb_store: QuestDBStore) -> None:
    table = questdb_store.names.market(DataKind.TRADES, None)
    questdb_store.ensure(table)
    wrong = pd_frame_with_text_side()
    with pytest.raises(UpstreamError, match=r"cast error.*CIFT_QUESTDB_ILP_CONF"):
        questdb_store.ilp.send(table.name, wrong, ["symbol"])
    assert count(questdb_store, table.name) == 0
    questdb_store.write(DataKind.TRADES, random_trades(10, ["AAPL"]))
    assert count(questdb_store, table.name) == 10


def test_a_suspended_table_is_reported_with_the_way_out(questdb_store: QuestDBStore) -> None:
    questdb_store.write(DataKind.TRADES, random_trades(10, ["AAPL"]))
    name = questdb_store.names.market(DataKind.TRADES, None).name
    questdb_store.client.execute(f'ALTER TABLE "{name}" SUSPEND WAL')
    with pytest.raises(UpstreamError, match="RESUME WAL"):
        questdb_store.write(DataKind.TRADES, random_trades(5, ["MSFT"], seed=4))
    questdb_store.client.execute(f'ALTER TABLE "{name}" RESUME WAL')
    assert (
        questdb_store.write(DataKind.TRADES, random_trades(5, ["MSFT"], seed=4)).rows_written == 5
    )


@pytest.mark.parametrize("fault", ["reject", "drop"])
def test_a_failed_ingestion_reports_nothing_as_stored(
    questdb_store: QuestDBStore, fault: str
) -> None:
    with faulty_ilp_endpoint(fault) as endpoint:  # type: ignore[arg-type]
        broken = QuestDBStore(questdb_store.client, endpoint.conf, questdb_store.names)
        with pytest.raises(UpstreamError, match="CIFT_QUESTDB_ILP_CONF"):
            broken.write(DataKind.TRADES, random_trades(200, SYMBOLS))
        broken.ilp.close()
    assert endpoint.failed
    assert questdb_store.read(DataKind.TRADES).collect().is_empty()
    assert questdb_store.write(DataKind.TRADES, random_trades(200, SYMBOLS)).rows_written == 200


# delete recovery ---------------------------------------------------------------------


def test_a_delete_interrupted_after_dropping_partitions_is_repaired(
    questdb_store: QuestDBStore,
) -> None:
    """A process killed between dropping partitions and restoring the kept rows leaves the
    side table; the next delete puts those rows back before doing its own work."""
    trades = random_trades(600, SYMBOLS, span_ns=2 * DAY_NS)
    questdb_store.write(DataKind.TRADES, trades)
    table = questdb_store.names.market(DataKind.TRADES, None)
    keep = f"{table.name}__keep"
    first_day = "2024-01-02"
    questdb_store.client.execute(
        f'CREATE TABLE "{keep}" AS (SELECT * FROM "{table.name}" WHERE "ts" IN \'{first_day}\')'
    )
    questdb_store.client.execute(f"ALTER TABLE \"{table.name}\" DROP PARTITION LIST '{first_day}'")
    wait_applied(questdb_store.client, table)
    assert count(questdb_store, table.name) < trades.height
    assert questdb_store.delete(DataKind.TRADES, symbols=["NONE"]) == 0
    assert_frame_equal(questdb_store.read(DataKind.TRADES).collect(), trades.sort(KEYS))
    assert keep not in questdb_store.tables()


class ShortCopy:
    """A SQL client that under-reports the side table's rows, as a copy cut short would."""

    def __init__(self, inner: PgClient, keep: str) -> None:
        self.inner, self.keep = inner, keep

    def rows(self, query: sql.Query) -> list[Row]:
        rows = self.inner.rows(query)
        if query.text == f'SELECT count() FROM "{self.keep}"':
            return [(int(rows[0][0]) - 1,)]
        return rows

    def execute(self, statement: str) -> None:
        self.inner.execute(statement)

    def describe(self) -> str:
        return self.inner.describe()

    def close(self) -> None:
        self.inner.close()


def test_an_incomplete_copy_deletes_nothing(questdb_store: QuestDBStore) -> None:
    trades = random_trades(600, SYMBOLS, span_ns=2 * DAY_NS)
    questdb_store.write(DataKind.TRADES, trades)
    assert isinstance(questdb_store.client, PgClient)
    keep = f"{questdb_store.names.market(DataKind.TRADES, None).name}__keep"
    short = QuestDBStore(ShortCopy(questdb_store.client, keep), "", questdb_store.names)
    with pytest.raises(UpstreamError, match="nothing was deleted"):
        short.delete(DataKind.TRADES, symbols=["AAPL"], start=at(T0 + DAY_NS // 2))
    assert_frame_equal(questdb_store.read(DataKind.TRADES).collect(), trades.sort(KEYS))
    assert keep not in questdb_store.tables()


# time on the wire, connections and readiness -----------------------------------------


@given(st.integers(0, 2**62))
def test_time_parameters_carry_every_nanosecond(ns: int) -> None:
    expected = str(np.datetime_as_string(np.datetime64(ns, "ns"), unit="ns")) + "Z"
    assert sql.ts_param(ns) == expected


def test_ping_names_the_server_and_both_endpoints(questdb_store: QuestDBStore) -> None:
    answer = questdb_store.ping()
    assert answer.startswith("QuestDB 9.")
    assert re.search(r" at 127\.0\.0\.1:\d+, ILP v[23], 0 t\w+_\* tables$", answer)


def test_ping_names_the_setting_when_an_endpoint_is_down(
    questdb_endpoints: tuple[str, str],
) -> None:
    port = free_port()
    client = PgClient(f"postgresql://admin:quest@127.0.0.1:{port}/qdb", connect_timeout=2)
    with pytest.raises(UpstreamError, match=f"127.0.0.1:{port}.*CIFT_QUESTDB_PG_URL"):
        QuestDBStore(client, f"http::addr=127.0.0.1:{port};").ping()
    client.close()
    sql_up = PgClient(questdb_endpoints[0])
    with pytest.raises(UpstreamError, match="CIFT_QUESTDB_ILP_CONF"):
        QuestDBStore(sql_up, f"http::addr=127.0.0.1:{port};").ping()
    sql_up.close()


def test_malformed_settings_are_configuration_errors(questdb_endpoints: tuple[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="CIFT_QUESTDB_PG_URL"):
        PgClient("not a url at all")
    sql_up = PgClient(questdb_endpoints[0])
    with pytest.raises(ConfigurationError, match="CIFT_QUESTDB_ILP_CONF"):
        QuestDBStore(sql_up, "htp::addr=127.0.0.1:9000;").ping()
    sql_up.close()


def test_readiness_reports_the_real_server_and_a_server_that_is_down(
    make_settings: SettingsFactory, questdb_endpoints: tuple[str, str]
) -> None:
    from fastapi.testclient import TestClient

    from cift.api.app import create_app
    from tests.schema import migrated

    pg_url, ilp_conf = questdb_endpoints
    settings = make_settings(
        market_store="questdb", questdb_pg_url=pg_url, questdb_ilp_conf=ilp_conf
    )
    store = open_store(settings)
    assert isinstance(store, QuestDBStore)
    store.close()
    with TestClient(create_app(migrated(settings))) as client:
        response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["market_store"]["detail"].startswith("QuestDB 9.")
    port = free_port()
    down = make_settings(
        market_store="questdb",
        questdb_pg_url=f"postgresql://admin:quest@127.0.0.1:{port}/qdb",
        questdb_ilp_conf=f"http::addr=127.0.0.1:{port};",
    )
    with TestClient(create_app(migrated(down))) as client:
        response = client.get("/health/ready")
    assert response.status_code == 503
    check = response.json()["checks"]["market_store"]
    assert check["status"] == "down"
    assert "CIFT_QUESTDB_PG_URL" in check["detail"]
    assert "quest@" not in check["detail"]
