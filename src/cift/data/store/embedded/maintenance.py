"""Deleting ranges, compacting partitions and removing dead files (under the writer lock)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import polars as pl

from cift.data.store.base import CompactResult
from cift.data.store.embedded.catalog import Catalog, FileEntry
from cift.data.store.embedded.datasets import is_features, keys_of
from cift.data.store.embedded.files import DATA_DIR, TMP_DIR, remove_quietly
from cift.model import DataKind

RETIRED_GRACE_SECONDS = 300
"""How long replaced files stay on disk for readers that listed them before the swap."""


class Partitions(Protocol):
    """What maintenance needs of the embedded store: its folder, its catalog, and reading
    and writing the files of a partition."""

    root: Path
    catalog: Catalog

    def scan_files(self, dataset: str, files: Sequence[FileEntry]) -> pl.LazyFrame: ...

    def write_rows(self, dataset: str, rows: pl.DataFrame) -> list[FileEntry]: ...


def delete_rows(store: Partitions, dataset: str, files: list[FileEntry], doomed: pl.Expr) -> int:
    """Rewrite the files without the rows matching ``doomed``; returns rows removed."""
    added: list[FileEntry] = []
    retired: list[FileEntry] = []
    removed = 0
    for entry in files:
        rows = store.scan_files(dataset, [entry]).collect()
        kept = rows.filter(~doomed)
        if kept.height == rows.height:
            continue
        removed += rows.height - kept.height
        retired.append(entry)
        added.extend(store.write_rows(entry.dataset, kept))
    store.catalog.swap(added, retired)
    return removed


def compact(store: Partitions, kind: DataKind | None) -> CompactResult:
    """Merge every partition held in several files into one sorted file."""
    datasets = _datasets(store, kind)
    partitions = store.catalog.fragmented(datasets) if datasets else []
    before = after = rows = 0
    for dataset, symbol, period in partitions:
        entries = store.catalog.partition(dataset, symbol, period)
        keys = keys_of(dataset)
        merged = (
            store.scan_files(dataset, entries)
            .unique(keys, keep="first", maintain_order=True)
            .sort(keys)
            .collect()
        )
        added = store.write_rows(dataset, merged)
        store.catalog.swap(added, entries)
        before += len(entries)
        after += len(added)
        rows += merged.height
    vacuum(store)
    return CompactResult(
        partitions=len(partitions), files_before=before, files_after=after, rows=rows
    )


def vacuum(store: Partitions) -> int:
    """Delete retired files past the grace period, and files no committed write names.

    Runs under the writer lock, so any uncommitted file belongs to a writer that died.
    Returns the number of files removed.
    """
    expired = store.catalog.expired(time.time_ns() - RETIRED_GRACE_SECONDS * 1_000_000_000)
    for entry in expired:
        remove_quietly(store.root / entry.path)
    store.catalog.forget(expired)
    known = store.catalog.known_paths()
    orphans = [
        path
        for path in (store.root / DATA_DIR).rglob("*.parquet")
        if path.relative_to(store.root).as_posix() not in known
    ]
    staged = list((store.root / TMP_DIR).glob("*")) if (store.root / TMP_DIR).exists() else []
    for path in orphans + staged:
        remove_quietly(path)
    return len(expired) + len(orphans) + len(staged)


def _datasets(store: Partitions, kind: DataKind | None) -> list[str]:
    names = {row[0] for row in store.catalog.coverage()}
    if kind is None:
        return sorted(names)  # feature sets included
    if kind is DataKind.BARS:
        return sorted(n for n in names if n.startswith("bars-") and not is_features(n))
    return [kind.value] if kind.value in names else []
