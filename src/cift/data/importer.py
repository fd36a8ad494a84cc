"""Import files into the store: read, map, validate, store, and say what happened."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cift.data.files import FileMapping, load
from cift.data.store.base import MarketStore
from cift.model.validation import Reason, ValidationReport


@dataclass(frozen=True)
class ImportSummary:
    """The outcome of importing one file."""

    file: str
    kind: str
    timeframe: str | None
    symbols: list[str]
    symbol_from: str
    rows_read: int
    rows_stored: int
    rows_already_stored: int
    report: ValidationReport
    ignored_columns: list[str]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("report")
        data["rejected"] = {r.value: n for r, n in sorted(self.report.rejected.items())}
        return data


def import_file(store: MarketStore, path: Path, mapping: FileMapping) -> ImportSummary:
    """Load ``path`` into ``store``; rows already stored are skipped, bad rows counted."""
    loaded = load(path, mapping)
    written = store.write(loaded.kind, loaded.frame, timeframe=loaded.timeframe)
    unstorable = ValidationReport.refused(loaded.kind, loaded.unstorable, Reason.TIME_OUT_OF_BOUNDS)
    return ImportSummary(
        file=str(path),
        kind=loaded.kind.value,
        timeframe=str(loaded.timeframe) if loaded.timeframe else None,
        symbols=sorted(loaded.frame.get_column("symbol").unique().to_list()),
        symbol_from=loaded.symbol_source,
        rows_read=loaded.rows_read,
        rows_stored=written.rows_written,
        rows_already_stored=written.rows_existing,
        report=written.report.merge(unstorable),
        ignored_columns=loaded.ignored,
    )
