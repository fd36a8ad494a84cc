"""Writing validated rows to QuestDB: skip stored keys, send over ILP, wait until visible.

QuestDB applies a WAL table's committed transactions asynchronously; a write returns
once its rows are applied, so a read that follows sees them (as with the embedded store).
"""

from __future__ import annotations

import time

import pandas as pd
import polars as pl
from loguru import logger

from cift.core.errors import UpstreamError
from cift.data.store.questdb import sql
from cift.data.store.questdb.client import SqlClient
from cift.data.store.questdb.ddl import Table
from cift.data.store.questdb.results import to_frame

APPLY_TIMEOUT_SECONDS = 60.0
APPLY_POLL_SECONDS = 0.05


def unstored_parts(
    client: SqlClient, table: Table, parts: list[pl.DataFrame]
) -> list[pl.DataFrame]:
    """The non-empty parts (one symbol each) cut to the rows whose key is not stored.

    One count over the batch's whole time span comes first: a backfill of new history
    finds nothing there and skips the per-symbol key lookups."""
    epoch = pl.col("ts").dt.epoch("ns")
    spans = pl.concat([part.select(low=epoch.min(), high=epoch.max()) for part in parts])
    low, high = spans.select(pl.col("low").min(), pl.col("high").max()).row(0)
    ((stored,),) = client.rows(sql.count(table, sql.Bounds(start=low, end=high + 1)))
    if not stored:
        return parts
    return [part for part in (unstored(client, table, p) for p in parts) if part.height]


def unstored(client: SqlClient, table: Table, part: pl.DataFrame) -> pl.DataFrame:
    """The rows of one symbol's part whose key is not stored yet."""
    epoch = pl.col("ts").dt.epoch("ns")
    low, high = part.select(epoch.min().alias("low"), epoch.max().alias("high")).row(0)
    symbol = str(part.item(0, "symbol"))
    keys = [k for k in table.keys if k != "symbol"]
    rows = client.rows(sql.stored_keys(table, symbol, int(low), int(high)))
    if not rows:
        return part
    stored = to_frame(rows, {k: part.schema[k] for k in keys})
    return part.join(stored, on=keys, how="anti", nulls_equal=True, maintain_order="left")


def ilp_frame(frame: pl.DataFrame, table: Table) -> pd.DataFrame:
    """The rows in table order as the pandas frame the ILP client serialises: ``ts`` as
    zone-less ``datetime64[ns]`` (which the client reads as UTC), integer columns that may
    hold nulls as pandas' nullable ``Int64``."""
    utc = frame.select(list(table.columns)).with_columns(pl.col("ts").dt.replace_time_zone(None))
    rows = utc.to_pandas()
    for name, column_type in table.columns.items():
        if column_type == "LONG":
            rows[name] = rows[name].astype("Int64")
    return rows


def wait_applied(client: SqlClient, table: Table, timeout: float = APPLY_TIMEOUT_SECONDS) -> None:
    """Wait until QuestDB has applied every committed transaction of ``table``."""
    deadline = time.monotonic() + timeout
    while True:
        rows = client.rows(sql.wal_state(table))
        if not rows:
            return
        writer_txn, sequencer_txn, suspended = rows[0]
        if suspended:
            raise UpstreamError(
                f"QuestDB suspended writes to {table.name}; find the cause in the server log, "
                f"then run ALTER TABLE {table.name} RESUME WAL."
            )
        if int(writer_txn) >= int(sequencer_txn):
            return
        if time.monotonic() > deadline:
            logger.warning(
                "QuestDB has not applied {} yet after {} s; the rows are committed and "
                "will become visible",
                table.name,
                timeout,
            )
            return
        time.sleep(APPLY_POLL_SECONDS)
