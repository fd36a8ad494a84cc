"""Deleting ranges and compacting partitions in QuestDB.

QuestDB has no ``DELETE``: data leaves a table by whole partitions
(``ALTER TABLE ... DROP PARTITION``). A range delete therefore

1. copies the rows to keep from every partition the range touches into a side table
   ``<table>__keep`` (``CREATE TABLE ... AS SELECT``) and checks the copy is complete,
2. drops those partitions,
3. inserts the kept rows back (``INSERT INTO ... SELECT``) and drops the side table.

A process killed between 2 and 3 leaves the side table; the next delete on that table
puts its rows back first (the dedup keys make that safe to repeat), so nothing is lost.
Readers may miss the kept rows of the touched partitions while step 3 is applied.
``CREATE TABLE AS`` and ``ALTER TABLE`` take no bind variables: their time bounds are
literals formatted from integers and their symbols passed
:func:`cift.model.validation.check_symbols`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cift.core.errors import UpstreamError
from cift.data.store.base import CompactResult
from cift.data.store.questdb import sql
from cift.data.store.questdb.client import SqlClient
from cift.data.store.questdb.ddl import PARTITION_FORMATS, Table, quote
from cift.data.store.questdb.ingest import wait_applied
from cift.data.store.questdb.sql import Bounds
from cift.model.validation import check_symbols

KEEP_SUFFIX = "__keep"


def delete_rows(client: SqlClient, table: Table, doomed: Bounds, tables: set[str]) -> int:
    """Remove the rows of ``table`` matching ``doomed``; returns how many were removed."""
    keep = f"{table.name}{KEEP_SUFFIX}"
    if keep in tables:
        restore(client, table, keep)
    wait_applied(client, table)
    removed = int(client.rows(sql.count(table, doomed))[0][0])
    if not removed:
        return 0
    names = [row[0] for row in client.rows(sql.partitions(table))]
    touched = [n for n in names if _overlaps(_period(n, table.partition_by), doomed)]
    spans = [_period(n, table.partition_by) for n in touched]
    within = Bounds(start=min(s for s, _ in spans), end=max(e for _, e in spans))
    kept = int(client.rows(sql.count_kept(table, doomed, within))[0][0])
    if kept:
        client.execute(
            f"CREATE TABLE {quote(keep)} AS (SELECT * FROM {quote(table.name)} "
            f"WHERE {_literal_range(within)} AND NOT ({_literal_condition(doomed)}))"
        )
        copied = int(client.rows(sql.Query(f"SELECT count() FROM {quote(keep)}"))[0][0])
        if copied != kept:
            client.execute(f"DROP TABLE {quote(keep)}")
            raise UpstreamError(
                f"QuestDB copied {copied:,} of the {kept:,} rows to keep from {table.name}; "
                "nothing was deleted. Retry once the server is idle."
            )
    partitions = ", ".join(f"'{name}'" for name in touched)
    client.execute(f"ALTER TABLE {quote(table.name)} DROP PARTITION LIST {partitions}")
    if kept:
        restore(client, table, keep)
    wait_applied(client, table)
    return removed


def restore(client: SqlClient, table: Table, keep: str) -> None:
    """Put the side table's rows back into ``table`` and drop it."""
    client.execute(f"INSERT INTO {quote(table.name)} SELECT * FROM {quote(keep)}")
    wait_applied(client, table)
    client.execute(f"DROP TABLE {quote(keep)}")


def compact(client: SqlClient, tables: list[Table]) -> CompactResult:
    """Merge partitions QuestDB split while writing out-of-order rows
    (``ALTER TABLE ... SQUASH PARTITIONS``)."""
    partitions = before = after = rows = 0
    for table in tables:
        wait_applied(client, table)
        listed = client.rows(sql.partitions(table))
        names = [str(name) for name, _ in listed]
        logical = {name[: _period_length(table.partition_by)] for name in names}
        split = len(names) - len(logical)
        before += len(names)
        if split:
            partitions += sum(1 for p in logical if sum(n.startswith(p) for n in names) > 1)
            client.execute(f"ALTER TABLE {quote(table.name)} SQUASH PARTITIONS")
            wait_applied(client, table)
            listed = client.rows(sql.partitions(table))
        after += len(listed)
        rows += sum(int(count) for _, count in listed)
    return CompactResult(partitions=partitions, files_before=before, files_after=after, rows=rows)


def _period_length(partition_by: str) -> int:
    return len(datetime(2000, 1, 1, tzinfo=UTC).strftime(PARTITION_FORMATS[partition_by]))


def _period(name: str, partition_by: str) -> tuple[int, int]:
    """``[start, end)`` in ns of a partition named like ``2024-01-02`` (split partitions
    carry a suffix after the period)."""
    text = name[: _period_length(partition_by)]
    start = datetime.strptime(text, PARTITION_FORMATS[partition_by]).replace(tzinfo=UTC)
    if partition_by == "DAY":
        end = datetime.fromordinal(start.toordinal() + 1).replace(tzinfo=UTC)
    elif partition_by == "MONTH":
        year, month = divmod(start.month, 12)
        end = start.replace(year=start.year + year, month=month + 1)
    else:
        end = start.replace(year=start.year + 1)
    return _ns(start), _ns(end)


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9


def _overlaps(period: tuple[int, int], bounds: Bounds) -> bool:
    start, end = period
    after_start = bounds.start is None or end > bounds.start
    before_end = bounds.end is None or start < bounds.end
    return after_start and before_end


def _literal_range(bounds: Bounds) -> str:
    terms = []
    if bounds.start is not None:
        terms.append(f'"ts" >= {sql.ts_literal(bounds.start)}')
    if bounds.end is not None:
        terms.append(f'"ts" < {sql.ts_literal(bounds.end)}')
    return " AND ".join(terms) or "true"


def _literal_condition(bounds: Bounds) -> str:
    """``bounds`` as SQL with literals (symbols already checked to hold no quotes)."""
    terms = [_literal_range(bounds)]
    if bounds.symbols is not None:
        checked = check_symbols(bounds.symbols) or ()
        terms.append(f'"symbol" IN ({", ".join(sql.symbol_literal(s) for s in checked)})')
    return " AND ".join(terms)
