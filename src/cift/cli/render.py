"""Rendering frames and reports for people (Rich) and machines (JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from rich.table import Table

from cift.model.validation import ValidationReport


def report_rows(report: ValidationReport | None) -> list[tuple[str, str]]:
    """Lines of a validation report: rows received, accepted, and rejected per reason."""
    if report is None:
        return [("rows received", "0")]
    rows = [("rows received", f"{report.received:,}"), ("rows accepted", f"{report.accepted:,}")]
    for reason, count in sorted(report.rejected.items()):
        rows.append((f"rejected: {reason.value}", f"[red]{count:,}[/]"))
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{value.microsecond:06d}".rstrip("0") if value.microsecond else text
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1e5 else f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


WIDE = 8
"""Frames with more columns than this (and few rows) are shown one column per line."""


def frame_table(frame: pl.DataFrame, title: str | None = None) -> Table:
    """A Rich table of a (small) frame; wide ones are turned on their side."""
    if frame.width > WIDE and 0 < frame.height <= WIDE:
        return _sideways(frame, title)
    table = Table(title=title)
    for name, dtype in frame.schema.items():
        table.add_column(name, justify="right" if dtype.is_numeric() else "left", no_wrap=True)
    for row in frame.iter_rows():
        table.add_row(*(_cell(v) for v in row))
    return table


def frame_records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready rows (times as ISO 8601 UTC)."""
    converted = frame.with_columns(pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ"))
    return converted.to_dicts()


def _sideways(frame: pl.DataFrame, title: str | None) -> Table:
    """One line per column and one column per row, headed by the row's time if any."""
    table = Table(title=title)
    table.add_column("column", style="cyan", no_wrap=True)
    heads = frame.get_column("ts") if "ts" in frame.columns else range(frame.height)
    for head in heads:
        table.add_column(_cell(head), justify="right", no_wrap=True)
    for name in frame.columns:
        if name != "ts":
            table.add_row(name, *(_cell(v) for v in frame.get_column(name)))
    return table
