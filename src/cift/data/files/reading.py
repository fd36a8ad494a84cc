"""Read CSV (plain or gzip) and Parquet files into Polars, with clear errors."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from cift.core.errors import ValidationError
from cift.data.files.mapping import FileMapping

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")


def file_format(path: Path) -> str:
    """``csv`` or ``parquet`` from the file name (``.gz`` allowed on CSV)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in CSV_SUFFIXES:
        return "csv"
    if last in PARQUET_SUFFIXES:
        return "parquet"
    raise ValidationError(
        f"{path}: unknown file type {''.join(path.suffixes) or '(none)'}; CIFT reads "
        ".csv, .csv.gz, .tsv and .parquet files."
    )


def read_file(path: Path, mapping: FileMapping) -> pl.DataFrame:
    """The file's rows with its own column names (text columns left for later parsing)."""
    if path.is_dir():
        raise ValidationError(f"{path} is a folder; name the files in it (e.g. {path}/*.csv).")
    if not path.is_file():
        raise ValidationError(f"{path}: no such file.")
    try:
        if file_format(path) == "parquet":
            return pl.read_parquet(path)
        return _read_csv(path, mapping)
    except UnicodeDecodeError:
        raise _not_utf8(path, mapping.separator) from None
    except pl.exceptions.NoDataError:
        raise ValidationError(
            f"{path} has no rows (a file to import has a header line, then at least one row)."
        ) from None
    except (pl.exceptions.ComputeError, OSError, EOFError) as exc:
        if "utf-8" in str(exc).lower() or "utf8" in str(exc).lower():
            raise _not_utf8(path, mapping.separator) from None
        raise ValidationError(f"{path}: cannot be read ({_first_line(exc)}).") from None


def _not_utf8(path: Path, separator: str) -> ValidationError:
    """Where the first byte that is not UTF-8 sits: line, column and the byte itself."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = exc.start
    else:
        return ValidationError(f"{path}: cannot be read as UTF-8 text.")
    line_start = data.rfind(b"\n", 0, start) + 1
    line = data.count(b"\n", 0, start) + 1
    field = data[line_start:start].count(separator.encode())
    header = data[: data.find(b"\n")].decode("utf-8", "replace").strip().split(separator)
    column = header[field] if field < len(header) else f"field {field + 1}"
    return ValidationError(
        f"{path}, line {line}, column {column!r}: byte 0x{data[start]:02x} is not UTF-8 "
        "text; save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)."
    )


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix.lower() == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def _read_csv(path: Path, mapping: FileMapping) -> pl.DataFrame:
    with _open_text(path) as handle:
        head = list(_first_rows(csv.reader(handle, delimiter=mapping.separator), 2))
    if not head:
        raise ValidationError(f"{path}: the file is empty.")
    header = head[0]
    names = list(mapping.columns) if mapping.columns else header
    if len(head) > 1 and len(head[1]) != len(names):
        which = "--columns" if mapping.columns else "the header"
        raise ValidationError(
            f"{path}: {which} names {len(names)} columns ({','.join(names)}) but rows have "
            f"{len(head[1])} fields; pass --columns with {len(head[1])} comma-separated names."
        )
    return pl.read_csv(
        path,
        separator=mapping.separator,
        has_header=False,
        skip_rows=1,
        new_columns=names,
        infer_schema_length=10_000,
    )


def _first_rows(reader: Iterable[list[str]], count: int) -> list[list[str]]:
    rows: list[list[str]] = []
    for row in reader:
        if row:
            rows.append(row)
        if len(rows) == count:
            break
    return rows


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
