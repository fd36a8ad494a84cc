"""The files provider reads every sample file, with at most a mapping option."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from cift.core.errors import ValidationError
from cift.data.files import FileMapping, load, symbol_from_path
from cift.data.providers.base import fetch
from cift.data.providers.files import FilesProvider
from cift.model import KEY_COLUMNS, SCHEMAS, DataKind, Timeframe
from cift.model.validation import Reason, validate

DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
MINUTE_2006 = ("Date", "Time", "Open", "High", "Low", "Close", "Volume", "OpenInterest")

SAMPLES = {
    "daily/nvda-1999-2014.csv": (FileMapping(), DataKind.BARS, "1d", 4012),
    "daily/orcl-1995-2014.csv": (FileMapping(), DataKind.BARS, "1d", 5036),
    "minute/2006-01-02-volume-min-001.csv": (
        FileMapping(columns=MINUTE_2006, timezone="Europe/Berlin"),
        DataKind.BARS,
        "1m",
        30889,
    ),
    "minute/6EH4-cme-1min-2024-01.csv.gz": (FileMapping(), DataKind.BARS, "1m", 29996),
    "minute/gbpusd-m1-bid-2012.csv": (FileMapping(), DataKind.BARS, "1m", 30117),
    "minute/gbpusd-m1-ask-2012.csv": (FileMapping(), DataKind.BARS, "1m", 30117),
    "ticks/usdjpy-quotes-truefx.csv": (FileMapping(), DataKind.QUOTES, None, 1000),
    "ticks/btcusdt-trades-binance.parquet": (FileMapping(), DataKind.TRADES, None, 2001),
    "ticks/btcusdt-quotes-binance.parquet": (FileMapping(), DataKind.QUOTES, None, 451),
    "ticks/ticksample.csv": (
        FileMapping(kind=DataKind.TRADES, rename={"Close": "price"}),
        DataKind.TRADES,
        None,
        135,
    ),
}


def _csv_rows(path: Path) -> list[list[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:  # type: ignore[operator]
        return list(csv.reader(handle))[1:]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_file_loads_into_the_model_schema(name: str) -> None:
    mapping, kind, timeframe, rows = SAMPLES[name]
    loaded = load(DATA / name, mapping)
    assert loaded.kind is kind
    assert str(loaded.timeframe) == str(timeframe) if timeframe else loaded.timeframe is None
    assert loaded.frame.height == rows
    assert loaded.frame.schema == SCHEMAS[kind]
    accepted, report = validate(loaded.frame, kind)
    assert report.accepted + report.rejected_total == rows
    # Real files are clean apart from quote updates sharing a timestamp (the last prevails).
    assert set(report.rejected) <= {Reason.DUPLICATE_KEY}
    assert accepted.height == loaded.frame.select(pl.struct(KEY_COLUMNS[kind]).n_unique()).item()


def test_csv_values_are_the_files_values() -> None:
    path = DATA / "daily/nvda-1999-2014.csv"
    frame = load(path).frame
    for index in (0, 1000, 4011):
        date, open_, high, low, close, _, volume = _csv_rows(path)[index]
        row = frame.row(index, named=True)
        assert row["ts"] == datetime.fromisoformat(date).replace(tzinfo=UTC)
        assert (row["open"], row["high"], row["low"], row["close"]) == tuple(
            float(v) for v in (open_, high, low, close)
        )
        assert row["volume"] == float(volume)
        assert row["symbol"] == "NVDA"


def test_separate_date_and_time_columns_in_a_local_time_zone() -> None:
    path = DATA / "minute/2006-01-02-volume-min-001.csv"
    frame = load(path, FileMapping(columns=MINUTE_2006, timezone="Europe/Berlin")).frame
    date, time, *_ = _csv_rows(path)[0]
    assert (date, time) == ("2006-01-02", "09:01:00")
    assert frame.item(0, "ts") == datetime(2006, 1, 2, 8, 1, tzinfo=UTC)  # CET is UTC+1


def test_a_header_shorter_than_the_rows_is_explained() -> None:
    with pytest.raises(ValidationError, match="rows have 8 fields; pass --columns"):
        load(DATA / "minute/2006-01-02-volume-min-001.csv")


def test_gzip_csv_matches_its_uncompressed_rows() -> None:
    path = DATA / "minute/6EH4-cme-1min-2024-01.csv.gz"
    frame = load(path).frame
    first = _csv_rows(path)[0]
    assert frame.item(0, "ts") == datetime.fromisoformat(first[0]).replace(tzinfo=UTC)
    assert frame.item(0, "close") == float(first[4])


def test_buyer_maker_flag_becomes_the_aggressor_side() -> None:
    raw = pl.read_parquet(DATA / "ticks/btcusdt-trades-binance.parquet")
    frame = load(DATA / "ticks/btcusdt-trades-binance.parquet").frame
    expected = [-1 if flag == "True" else 1 for flag in raw.get_column("buyer_maker")]
    assert frame.get_column("side").to_list() == expected
    assert frame.get_column("trade_id").to_list() == raw.get_column("trade_id").cast(str).to_list()


def test_generated_trade_ids_are_stable_and_unique() -> None:
    mapping = FileMapping(kind=DataKind.TRADES, rename={"Close": "price"})
    first = load(DATA / "ticks/ticksample.csv", mapping).frame.get_column("trade_id")
    again = load(DATA / "ticks/ticksample.csv", mapping).frame.get_column("trade_id")
    assert first.to_list() == again.to_list()
    assert first.n_unique() == first.len()


@pytest.mark.parametrize(
    ("values", "unit"),
    [
        ([1_700_000_000, 1_700_000_060], "s"),
        ([1_700_000_000_000, 1_700_000_060_000], "ms"),
        ([1_700_000_000_000_000_000, 1_700_000_060_000_000_000], "ns"),
    ],
)
def test_epoch_integers_in_any_unit(tmp_path: Path, values: list[int], unit: str) -> None:
    path = tmp_path / f"x-{unit}.csv"
    path.write_text("t,price,size\n" + "".join(f"{v},10.5,3\n" for v in values))
    frame = load(path, FileMapping(symbol="X")).frame
    assert frame.item(0, "ts") == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert frame.item(1, "ts") == datetime(2023, 11, 14, 22, 14, 20, tzinfo=UTC)


def test_unreadable_time_names_file_row_and_value(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,bid,ask\n2024-01-02 10:00:00,1,2\nyesterday,1,2\n")
    with pytest.raises(ValidationError, match=r"bad.csv, row 3, column 'timestamp'.*'yesterday'"):
        load(path)


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("a,b\n1,2\n", "what.csv", "bars, quotes or trades"),
        ("timestamp,open,high,low\n2024-01-02,1,2,1\n", "x.csv", "bars, quotes or trades"),
        ("timestamp,price\n2024-01-02,1\n", "x.csv", r"no column for \['size'\]"),
        ("", "empty.csv", "empty"),
        ("x", "notes.xlsx", "unknown file type"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, content: str, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ValidationError, match=message):
        load(path)


def test_missing_file_and_bad_mapping() -> None:
    with pytest.raises(ValidationError, match="no such file"):
        load(Path("/nonexistent/file.csv"))
    with pytest.raises(ValidationError, match="FILE_COLUMN=CIFT_COLUMN"):
        FileMapping.parse_rename("Close")
    with pytest.raises(ValidationError, match="not in"):
        load(DATA / "daily/nvda-1999-2014.csv", FileMapping(rename={"Last": "close"}))


def test_symbol_from_file_names() -> None:
    assert symbol_from_path(Path("nvda-1999-2014.csv")) == "NVDA"
    assert symbol_from_path(Path("6EH4-cme-1min-2024-01.csv.gz")) == "6EH4"
    assert symbol_from_path(Path("2006-01-02-volume-min-001.csv")) == "VOLUME"


def test_provider_serves_the_requested_range() -> None:
    provider = FilesProvider([DATA / "daily/nvda-1999-2014.csv"])
    start, end = datetime(2010, 1, 1, tzinfo=UTC), datetime(2010, 2, 1, tzinfo=UTC)
    pages = list(
        fetch(provider, DataKind.BARS, ["NVDA"], start, end, timeframe=Timeframe.parse("1d"))
    )
    frame = pl.concat(pages)
    assert frame.height == 19  # trading days of January 2010
    assert frame.get_column("ts").min() >= start
    assert frame.get_column("ts").max() < end
    assert (
        list(fetch(provider, DataKind.BARS, ["ORCL"], start, end, timeframe=Timeframe.parse("1d")))
        == []
    )
    with pytest.raises(ValidationError, match="empty"):
        list(fetch(provider, DataKind.BARS, ["NVDA"], end, start, timeframe=Timeframe.parse("1d")))
