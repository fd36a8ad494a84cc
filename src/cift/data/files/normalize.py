"""Turn a user's file into CIFT rows: find the columns, parse time, fill what is implied."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from cift.core.errors import ValidationError
from cift.core.timeutil import LATEST_NS
from cift.data.files.mapping import ALIASES, BUYER_MAKER, FileMapping, find_column, symbol_from_path
from cift.model import SCHEMAS, TS_DTYPE, DataKind, Timeframe
from cift.model.schemas import NULLABLE, conform
from cift.model.times import datetime_to_ts, epoch_to_ts

EPOCH_UNITS = ((10**11, 10**9), (10**14, 10**6), (10**17, 10**3))
"""Integer timestamps whose median is below each bound are seconds, milliseconds,
microseconds (then ns): (bound, nanoseconds per unit)."""


@dataclass(frozen=True)
class Normalized:
    """A file's rows in CIFT's schema, and what was inferred to get there."""

    kind: DataKind
    frame: pl.DataFrame
    timeframe: Timeframe | None
    symbol_source: str
    ignored: list[str]
    unstorable: pl.DataFrame
    """Rows (the file's own columns) whose time nanoseconds since the epoch cannot hold."""

    @property
    def rows_read(self) -> int:
        return self.frame.height + self.unstorable.height


def infer_kind(columns: list[str], mapping: FileMapping) -> DataKind:
    """Bars if OHLC columns exist, quotes if bid and ask do, trades if a price does."""
    if mapping.kind is not None:
        return mapping.kind
    found = {canonical for canonical in ALIASES if _find(columns, canonical, mapping)}
    if {"open", "high", "low", "close"} <= found:
        return DataKind.BARS
    if {"bid", "ask"} <= found:
        return DataKind.QUOTES
    if "price" in found:
        return DataKind.TRADES
    raise ValidationError(
        f"Cannot tell whether the file holds bars, quotes or trades from its columns "
        f"{columns}; pass --kind, and --map FILE_COLUMN=CIFT_COLUMN for columns CIFT does "
        "not recognise (bars: open,high,low,close,volume; quotes: bid,ask,bid_size,ask_size; "
        "trades: price,size)."
    )


def _find(columns: list[str], canonical: str, mapping: FileMapping) -> str | None:
    return find_column(columns, canonical, mapping.rename)


def normalize(raw: pl.DataFrame, mapping: FileMapping, path: Path) -> Normalized:
    """Map ``raw`` (a file's own columns) onto the schema of its kind."""
    columns = raw.columns
    for source in mapping.rename:
        if source not in columns:
            raise ValidationError(
                f"{path}: --map names column {source!r}, which is not in {columns}."
            )
    kind = infer_kind(columns, mapping)
    lines = pl.Series("line", range(2, raw.height + 2))  # the header is line 1
    ts = timestamps(raw, mapping, path)
    used = set(_ts_sources(columns, mapping))
    given = raw.select(pl.all_horizontal(pl.col(c).is_not_null() for c in used)).to_series()
    unstorable = given & ts.is_null()
    if unstorable.any():
        rejected = raw.filter(unstorable)
        raw, ts, lines = raw.filter(~unstorable), ts.filter(~unstorable), lines.filter(~unstorable)
    else:
        rejected = raw.clear()
    selected: dict[str, pl.Series] = {"ts": ts}
    for name in SCHEMAS[kind]:
        found = None if name == "ts" else _find(columns, name, mapping)
        if found is not None and found not in used:
            selected[name] = raw.get_column(found)
            used.add(found)
    symbol_source = _symbol(selected, mapping, path, raw.height)
    if kind is DataKind.TRADES:
        _trade_fields(selected, raw, used)
    missing = [c for c in SCHEMAS[kind] if c not in selected and c not in NULLABLE[kind]]
    if missing:
        raise ValidationError(
            f"{path}: no column for {missing} of {kind.value}; found {columns}. Map them with "
            f"--map FILE_COLUMN=CIFT_COLUMN (e.g. --map Last={missing[0]}), or pass --kind."
        )
    for name, dtype in SCHEMAS[kind].items():
        if name in selected and dtype.is_numeric() and selected[name].dtype == pl.String:
            selected[name] = _numbers(selected[name], lines, path)
    frame = conform(pl.DataFrame(selected), kind).collect()
    timeframe = mapping.timeframe or (_spacing(frame) if kind is DataKind.BARS else None)
    ignored = [c for c in columns if c not in used]
    return Normalized(kind, frame, timeframe, symbol_source, ignored, rejected)


def _numbers(text: pl.Series, lines: pl.Series, path: Path) -> pl.Series:
    """A text column read as numbers; a value that is none names its line and column."""
    trimmed = text.str.strip_chars()
    numbers = trimmed.cast(pl.Float64, strict=False)
    bad = trimmed.is_not_null() & (trimmed != "") & numbers.is_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise ValidationError(
            f"{path}, line {lines[row]}, column {text.name!r}: cannot read {text[row]!r} as a "
            "number; fix the value, or map another column with --map."
        )
    return numbers


def _symbol(selected: dict[str, pl.Series], mapping: FileMapping, path: Path, n: int) -> str:
    if mapping.symbol is not None:
        selected["symbol"] = pl.repeat(mapping.symbol, n, eager=True, dtype=pl.String())
        return "--symbol"
    if "symbol" in selected:
        selected["symbol"] = selected["symbol"].cast(pl.String)
        return "column"
    selected["symbol"] = pl.repeat(symbol_from_path(path), n, eager=True, dtype=pl.String())
    return "file name"


def _trade_fields(selected: dict[str, pl.Series], raw: pl.DataFrame, used: set[str]) -> None:
    """Aggressor side from ``buyer_maker``; stable trade ids when the file has none."""
    maker = next((c for c in raw.columns if c.lower() == BUYER_MAKER), None)
    if "side" not in selected and maker is not None:
        flag = raw.get_column(maker).cast(pl.String).str.to_lowercase()
        side = pl.select(
            pl.when(flag == "true")
            .then(-1)
            .when(flag == "false")
            .then(1)
            .otherwise(0)
            .cast(pl.Int8)
        ).to_series()
        selected["side"] = side
        used.add(maker)
    elif "side" not in selected:
        selected["side"] = pl.repeat(0, raw.height, eager=True, dtype=pl.Int8())
    if "trade_id" in selected:
        selected["trade_id"] = selected["trade_id"].cast(pl.String)
    else:
        # Position among trades with the same timestamp: stable across re-imports.
        frame = pl.DataFrame({"ts": selected["ts"]})
        ordinal = frame.select(pl.int_range(pl.len()).over("ts")).to_series()
        ns = selected["ts"].dt.epoch("ns").cast(pl.String)
        selected["trade_id"] = ns + "-" + ordinal.cast(pl.String)


def _ts_sources(columns: list[str], mapping: FileMapping) -> list[str]:
    date, time = _date_time_columns(columns, mapping)
    if date is not None and time is not None:
        return [date, time]
    single = _find(columns, "ts", mapping)
    return [single] if single else []


def _date_time_columns(columns: list[str], mapping: FileMapping) -> tuple[str | None, str | None]:
    if mapping.date_column or mapping.time_column:
        return mapping.date_column, mapping.time_column
    lowered = {c.lower(): c for c in columns}
    if (
        "date" in lowered
        and "time" in lowered
        and _find(columns, "ts", mapping) in (lowered["date"], lowered["time"])
    ):
        return lowered["date"], lowered["time"]
    return None, None


def timestamps(raw: pl.DataFrame, mapping: FileMapping, path: Path) -> pl.Series:
    """Parse the time column(s) into UTC nanoseconds; naive times are in ``mapping.timezone``.

    A time that nanoseconds since the epoch cannot hold (before 1677-09-21 or after
    2262-04-11) is null, never wrapped around."""
    sources = _ts_sources(raw.columns, mapping)
    if not sources:
        raise ValidationError(
            f"{path}: no time column among {raw.columns}; name one with --map COLUMN=ts, or "
            "give --date-column and --time-column."
        )
    for source in sources:
        if source not in raw.columns:
            raise ValidationError(f"{path}: column {source!r} is not in {raw.columns}.")
    if len(sources) == 2:
        date, time = (raw.get_column(s).cast(pl.String) for s in sources)
        text = date + " " + time
        return _parse_text(text.rename(f"{sources[0]} {sources[1]}"), mapping, path)
    column = raw.get_column(sources[0])
    if column.dtype == pl.Date:
        column = column.cast(pl.Datetime("ms"))
    if isinstance(column.dtype, pl.Datetime):
        return _as_ns(_to_utc(column, mapping, path))
    if column.dtype.is_integer():
        return _from_epoch(column)
    if column.dtype.is_float():
        ns = column * 1e9
        fits = ns.is_finite() & (ns.abs() < LATEST_NS)
        return _where(fits, ns.round().cast(pl.Int64, strict=False)).cast(TS_DTYPE)
    return _parse_text(column.cast(pl.String), mapping, path)


def _where(fits: pl.Series, values: pl.Series) -> pl.Series:
    """``values`` where ``fits``, else null."""
    return pl.select(pl.when(fits).then(values)).to_series().rename(values.name)


def _from_epoch(column: pl.Series) -> pl.Series:
    units = column.cast(pl.Int64, strict=False)
    typical = units.abs().median()  # one stray value must not change the unit of the rest
    scale = 1  # nanoseconds per unit
    for bound, per_unit in EPOCH_UNITS:
        if isinstance(typical, int | float) and typical < bound:
            scale = per_unit
            break
    return pl.select(epoch_to_ts(pl.lit(units), scale)).to_series().rename(column.name)


def _as_ns(column: pl.Series) -> pl.Series:
    """A UTC datetime column of any unit in nanoseconds; null where they cannot hold it."""
    dtype = column.dtype
    assert isinstance(dtype, pl.Datetime)
    ns = pl.select(datetime_to_ts(pl.lit(column), dtype.time_unit))
    return ns.to_series().rename(column.name)


def _parse_text(text: pl.Series, mapping: FileMapping, path: Path) -> pl.Series:
    """Times read as microseconds first (whose range reaches any year a file may hold),
    then as nanoseconds where those can hold them, so no digit is lost and none wraps."""
    try:
        wide, exact = (
            text.str.to_datetime(
                format=mapping.timestamp_format, time_unit=unit, strict=False, ambiguous="earliest"
            )
            for unit in ("us", "ns")
        )
    except pl.exceptions.PolarsError as exc:
        raise ValidationError(
            f"{path}: cannot parse times in {text.name!r} ({exc}); pass "
            "--timestamp-format, e.g. '%Y-%m-%d %H:%M:%S'."
        ) from None
    bad = text.is_not_null() & wide.is_null()
    if bad.any():
        row = int(bad.arg_true()[0])
        raise ValidationError(
            f"{path}, row {row + 2}, column {text.name!r}: cannot read {text[row]!r} as a time; "
            "pass --timestamp-format, e.g. '%Y-%m-%d %H:%M:%S'."
        )
    fits = _as_ns(_to_utc(wide, mapping, path)).is_not_null()
    return _as_ns(_to_utc(_where(fits, exact), mapping, path))


def _to_utc(column: pl.Series, mapping: FileMapping, path: Path) -> pl.Series:
    """Naive times placed in the mapping's zone, all converted to UTC (unit kept)."""
    dtype = column.dtype
    assert isinstance(dtype, pl.Datetime)
    if dtype.time_zone is None:
        try:
            column = column.dt.replace_time_zone(mapping.timezone, ambiguous="earliest")
        except pl.exceptions.PolarsError as exc:
            raise ValidationError(
                f"{path}: times cannot be placed in time zone {mapping.timezone!r} ({exc}); "
                "use an IANA name such as America/New_York with --tz."
            ) from None
    return column.dt.convert_time_zone("UTC")


def _spacing(frame: pl.DataFrame) -> Timeframe:
    """A bar file's timeframe: the most common gap between consecutive bars of a symbol."""
    gaps = (
        frame.sort("symbol", "ts")
        .select(pl.col("ts").dt.epoch("ns").diff().over("symbol").alias("gap"))
        .filter(pl.col("gap") > 0)
        .get_column("gap")
    )
    if gaps.is_empty():
        raise ValidationError("Cannot infer the bar timeframe from a single bar; pass --timeframe.")
    nanos = int(gaps.mode().min())  # type: ignore[arg-type]
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if nanos % (size * 10**9) == 0:
            return Timeframe.parse(f"{nanos // (size * 10**9)}{unit}")
    raise ValidationError(
        f"Bars {nanos} ns apart have no whole-second timeframe; pass --timeframe."
    )
