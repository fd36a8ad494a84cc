"""The manifest of the embedded store: which Parquet files hold which rows.

A file is visible only once its manifest row is committed, so a writer killed at any
moment leaves no partial file visible. Files are immutable; replacing files (compaction,
deletes) swaps manifest rows in one transaction and retires the old files, which are
removed from disk only after a grace period so readers holding an older listing can
finish. SQLite in WAL mode lets other processes read while one writes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cift.core.errors import ConfigurationError
from cift.model.validation import check_symbols

CATALOG_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    dataset TEXT NOT NULL,
    symbol TEXT NOT NULL,
    period TEXT NOT NULL,
    path TEXT NOT NULL UNIQUE,
    rows INTEGER NOT NULL CHECK (rows > 0),
    min_ts INTEGER NOT NULL,
    max_ts INTEGER NOT NULL CHECK (max_ts >= min_ts),
    created_ns INTEGER NOT NULL,
    retired_ns INTEGER
);
CREATE INDEX IF NOT EXISTS ix_files_active
    ON files (dataset, symbol, min_ts) WHERE retired_ns IS NULL;
CREATE INDEX IF NOT EXISTS ix_files_retired ON files (retired_ns) WHERE retired_ns IS NOT NULL;
"""


@dataclass(frozen=True)
class FileEntry:
    """One immutable Parquet file: one symbol over one period (UTC day, month or year)."""

    dataset: str
    symbol: str
    period: str
    path: str
    rows: int
    min_ts: int
    max_ts: int
    id: int | None = None


_COLUMNS = "dataset, symbol, period, path, rows, min_ts, max_ts, id"


class Catalog:
    """The SQLite manifest at ``root/catalog.sqlite``; paths are relative to ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "catalog.sqlite"
        root.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'files'"
            ).fetchone()
            if tables[0] and version != CATALOG_VERSION:
                raise ConfigurationError(
                    f"The market-data catalog {self.path} has format {version}; this CIFT reads "
                    f"format {CATALOG_VERSION}. Export the data with the CIFT that wrote it, or "
                    "move the folder away to start afresh."
                )
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version = {CATALOG_VERSION}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    def active(
        self,
        dataset: str,
        symbols: Sequence[str] | None = None,
        start_ns: int | None = None,
        end_ns: int | None = None,
    ) -> list[FileEntry]:
        """Visible files overlapping ``[start_ns, end_ns)``, ordered by symbol and time."""
        symbols = check_symbols(symbols)
        sql = f"SELECT {_COLUMNS} FROM files WHERE retired_ns IS NULL AND dataset = ?"
        params: list[object] = [dataset]
        if symbols is not None:
            sql += f" AND symbol IN ({','.join('?' * len(symbols))})"
            params.extend(symbols)
        if start_ns is not None:
            sql += " AND max_ts >= ?"
            params.append(start_ns)
        if end_ns is not None:
            sql += " AND min_ts < ?"
            params.append(end_ns)
        sql += " ORDER BY symbol, min_ts, max_ts, id"
        with self._connect() as db:
            return [FileEntry(*row) for row in db.execute(sql, params)]

    def swap(self, added: Iterable[FileEntry], retired: Iterable[FileEntry] = ()) -> None:
        """Make ``added`` visible and retire ``retired`` in one transaction."""
        now = time.time_ns()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO files (dataset, symbol, period, path, rows, min_ts, max_ts, "
                    "created_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (e.dataset, e.symbol, e.period, e.path, e.rows, e.min_ts, e.max_ts, now)
                        for e in added
                    ],
                )
                db.executemany(
                    "UPDATE files SET retired_ns = ? WHERE id = ? AND retired_ns IS NULL",
                    [(now, e.id) for e in retired],
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def coverage(
        self, datasets: Sequence[str] | None = None
    ) -> list[tuple[str, str, int, int, int]]:
        """(dataset, symbol, first ts, last ts, rows) of every visible symbol."""
        sql = (
            "SELECT dataset, symbol, min(min_ts), max(max_ts), sum(rows) FROM files "
            "WHERE retired_ns IS NULL"
        )
        params: list[object] = []
        if datasets is not None:
            sql += f" AND dataset IN ({','.join('?' * len(datasets))})"
            params.extend(datasets)
        sql += " GROUP BY dataset, symbol ORDER BY dataset, symbol"
        with self._connect() as db:
            return list(db.execute(sql, params))

    def fragmented(self, datasets: Sequence[str]) -> list[tuple[str, str, str]]:
        """(dataset, symbol, period) partitions held in more than one visible file."""
        marks = ",".join("?" * len(datasets))
        sql = (
            "SELECT dataset, symbol, period FROM files WHERE retired_ns IS NULL "
            f"AND dataset IN ({marks}) GROUP BY dataset, symbol, period HAVING count(*) > 1"
        )
        with self._connect() as db:
            return list(db.execute(sql, list(datasets)))

    def partition(self, dataset: str, symbol: str, period: str) -> list[FileEntry]:
        """The visible files of one partition."""
        sql = (
            f"SELECT {_COLUMNS} FROM files WHERE retired_ns IS NULL AND dataset = ? "
            "AND symbol = ? AND period = ? ORDER BY min_ts, id"
        )
        with self._connect() as db:
            return [FileEntry(*row) for row in db.execute(sql, (dataset, symbol, period))]

    def expired(self, retired_before_ns: int) -> list[FileEntry]:
        """Files retired before the given time: safe to delete from disk."""
        sql = f"SELECT {_COLUMNS} FROM files WHERE retired_ns IS NOT NULL AND retired_ns < ?"
        with self._connect() as db:
            return [FileEntry(*row) for row in db.execute(sql, (retired_before_ns,))]

    def forget(self, entries: Iterable[FileEntry]) -> None:
        """Drop manifest rows of files already removed from disk."""
        with self._connect() as db:
            db.executemany("DELETE FROM files WHERE id = ?", [(e.id,) for e in entries])

    def file_count(self) -> int:
        """How many files are visible."""
        with self._connect() as db:
            return int(
                db.execute("SELECT count(*) FROM files WHERE retired_ns IS NULL").fetchone()[0]
            )

    def known_paths(self) -> set[str]:
        """Every path the manifest mentions, visible or retired."""
        with self._connect() as db:
            return {row[0] for row in db.execute("SELECT path FROM files")}
