"""Hostile and careless files: times nanoseconds cannot hold, implausible dates, numbers
that are not finite. Each row is stored exactly as written or rejected with its reason;
none is ever stored as some other value."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cift.core.errors import ConfigurationError, ValidationError
from cift.core.settings import Settings
from cift.data.files import FileMapping, load
from cift.data.importer import import_file
from cift.data.store import open_store
from cift.data.store.embedded import EmbeddedStore
from cift.model import DataKind, Timeframe
from cift.model.symbols import SYMBOL_PATTERN, is_symbol, symbol_folder
from cift.model.validation import DEFAULT_TIME_BOUNDS, Reason, TimeBounds, validate
from tests.budget import deep
from tests.conftest import SettingsFactory

HEADER = "Date,Open,High,Low,Close,Volume\n"
STORABLE = (date(1677, 9, 22), date(2262, 4, 10))


def bars_file(folder: Path, rows: list[str], name: str = "bars.csv") -> Path:
    path = folder / name
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows))
    return path


def day(text: str) -> str:
    return f"{text},10,11,9,10.5,100"


def stored_days(store: EmbeddedStore) -> list[date]:
    bars = store.read(DataKind.BARS, timeframe=Timeframe.parse("1d")).collect()
    return [ts.date() for ts in bars.get_column("ts").to_list()]


def test_dates_beyond_nanoseconds_are_rejected_not_wrapped(tmp_path: Path) -> None:
    path = bars_file(
        tmp_path,
        [day(d) for d in ("2024-01-02", "9999-12-31", "1500-01-01", "2262-04-12", "2024-01-03")],
    )
    store = EmbeddedStore(tmp_path / "market")
    summary = import_file(store, path, FileMapping(symbol="XYZ"))
    assert summary.report.rejected == {Reason.TIME_OUT_OF_BOUNDS: 3}
    assert (summary.rows_read, summary.rows_stored) == (5, 2)
    assert summary.report.received == 5
    assert stored_days(store) == [date(2024, 1, 2), date(2024, 1, 3)]


def test_dates_outside_the_window_are_rejected(
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    path = bars_file(tmp_path, [day(d) for d in ("1850-01-01", "2199-12-31", "2200-01-01")])
    store = EmbeddedStore(tmp_path / "market")
    summary = import_file(store, path, FileMapping(symbol="XYZ"))
    assert summary.report.rejected == {Reason.TIME_OUT_OF_BOUNDS: 2}
    assert stored_days(store) == [date(2199, 12, 31)]

    wide = make_settings(market_earliest_time=datetime(1800, 1, 1, tzinfo=UTC))
    configured = open_store(wide)
    assert import_file(configured, path, FileMapping(symbol="XYZ")).rows_stored == 2


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"market_earliest_time": datetime(1600, 1, 1, tzinfo=UTC)}, "outside the times"),
        ({"market_latest_time": "9999-01-01T00:00:00Z"}, "outside the times"),
        (
            {"market_latest_time": "2024-01-01"},
            "CIFT_MARKET_LATEST_TIME: input should have timezone",
        ),
    ],
)
def test_the_window_setting_is_checked(
    make_settings: SettingsFactory, overrides: dict[str, object], says: str
) -> None:
    with pytest.raises(ConfigurationError, match=says):
        make_settings(**overrides)


def test_an_empty_window_is_refused(make_settings: SettingsFactory) -> None:
    settings: Settings = make_settings(market_latest_time=datetime(1890, 1, 1, tzinfo=UTC))
    with pytest.raises(ValidationError, match="CIFT_MARKET_LATEST_TIME"):
        open_store(settings)


@settings(
    max_examples=deep(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_any_date_is_kept_exactly_or_rejected(tmp_path: Path, when: date) -> None:
    assume(when != date(2024, 1, 2))
    path = bars_file(tmp_path, [day(when.isoformat()), day("2024-01-02")], name="any.csv")
    loaded = load(path, FileMapping(symbol="XYZ", timeframe=Timeframe.parse("1d")))
    kept = [ts.date() for ts in loaded.frame.get_column("ts").to_list()]
    if STORABLE[0] <= when <= STORABLE[1]:
        assert kept == [when, date(2024, 1, 2)]
        assert loaded.unstorable.is_empty()
        inside = DEFAULT_TIME_BOUNDS.earliest.date() <= when < DEFAULT_TIME_BOUNDS.latest.date()
        _, report = validate(loaded.frame, DataKind.BARS)
        assert report.rejected == ({} if inside else {Reason.TIME_OUT_OF_BOUNDS: 1})
    else:
        assert kept == [date(2024, 1, 2)]
        assert loaded.unstorable.get_column("Date").to_list() == [when.isoformat()]


def test_text_times_keep_their_nanoseconds(tmp_path: Path) -> None:
    path = tmp_path / "trades.csv"
    path.write_text(
        "ts,price,size\n2024-01-02T09:30:00.123456789Z,10,1\n9999-01-01T00:00:00Z,10,1\n"
    )
    loaded = load(path, FileMapping(symbol="XYZ"))
    (ns,) = loaded.frame.get_column("ts").dt.epoch("ns").to_list()
    assert ns == 1_704_187_800_123_456_789
    assert loaded.unstorable.height == 1


def test_one_stray_epoch_value_changes_nothing_else(tmp_path: Path) -> None:
    # 253402214400 s is 9999-12-31: too large for nanoseconds, and no reason to read the
    # other values as milliseconds.
    frame = pl.DataFrame({"ts": [1_704_187_800, 253_402_214_400, 1_704_187_860], "price": 10.0})
    frame.with_columns(size=pl.lit(1.0)).write_parquet(tmp_path / "t.parquet")
    loaded = load(tmp_path / "t.parquet", FileMapping(symbol="XYZ"))
    assert loaded.frame.get_column("ts").dt.epoch("s").to_list() == [1_704_187_800, 1_704_187_860]
    assert loaded.unstorable.get_column("ts").to_list() == [253_402_214_400]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("2024-01-03,10,1e309,9,10.5,100", Reason.INFINITE_VALUE),
        ("2024-01-03,10,11,9,10.5,1e309", Reason.INFINITE_VALUE),
        ("2024-01-03,10,11,-inf,10.5,100", Reason.INFINITE_VALUE),
        ("2024-01-03,NaN,11,9,10.5,100", Reason.NAN_PRICE),
    ],
)
def test_non_finite_numbers_are_rejected(tmp_path: Path, row: str, reason: Reason) -> None:
    path = bars_file(tmp_path, [day("2024-01-02"), row])
    store = EmbeddedStore(tmp_path / "market")
    summary = import_file(store, path, FileMapping(symbol="XYZ"))
    assert summary.report.rejected == {reason: 1}
    assert stored_days(store) == [date(2024, 1, 2)]


def test_bounds_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="after the earliest"):
        TimeBounds(datetime(2000, 1, 1, tzinfo=UTC), datetime(1999, 1, 1, tzinfo=UTC))


def test_symbols_cannot_name_folders_outside_their_dataset(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    rows = ["..", ".", "../../etc", "A/../..", "BRK.B", "BTC/USD", "^GSPC", "a b", "X" * 33]
    path.write_text(
        "symbol,Date,Open,High,Low,Close,Volume\n"
        + "".join(f"{s},2024-01-0{1 + i % 2},10,11,9,10.5,100\n" for i, s in enumerate(rows))
    )
    store = EmbeddedStore(tmp_path / "market")
    summary = import_file(store, path, FileMapping(timeframe=Timeframe.parse("1d")))
    assert summary.report.rejected == {Reason.INVALID_SYMBOL: 4}
    # Dots and slashes are symbol characters; only "." and ".." alone name folders.
    stored = store.coverage(DataKind.BARS).get_column("symbol").to_list()
    assert stored == ["../../ETC", "A/../..", "BRK.B", "BTC/USD", "^GSPC"]  # canonical: upper case
    dataset = (tmp_path / "market" / "data" / "bars-1d").resolve()
    for file in (tmp_path / "market").rglob("*.parquet"):
        assert file.resolve().parent.parent.parent == dataset  # <dataset>/<symbol>/<period>/
    folders = {p.name for p in dataset.iterdir()}
    assert folders == {
        "%2E%2E%2F%2E%2E%2FETC",
        "A%2F%2E%2E%2F%2E%2E",
        "BRK%2EB",
        "BTC%2FUSD",
        "%5EGSPC",
    }


@given(st.lists(st.from_regex(SYMBOL_PATTERN, fullmatch=True), min_size=2, max_size=20))
def test_symbol_folders_are_one_distinct_name_per_symbol(symbols: list[str]) -> None:
    symbols = [s for s in dict.fromkeys(symbols) if is_symbol(s)]
    folders = [symbol_folder(s) for s in symbols]
    assert len(set(folders)) == len(symbols)
    assert not {".", ".."} & set(folders)
    assert all("/" not in f and "\\x00" not in f for f in folders)


@pytest.mark.parametrize("symbol", ["..", ".", "a b", "X" * 33, "Ä"])
def test_a_bad_symbol_option_is_refused_up_front(symbol: str) -> None:
    with pytest.raises(ValidationError, match="a symbol is"):
        FileMapping(symbol=symbol)


@pytest.mark.parametrize("good_rows", [1, 2_000])  # the bad byte before or after 8 KiB
def test_a_byte_that_is_not_utf8_names_its_line_and_column(tmp_path: Path, good_rows: int) -> None:
    path = tmp_path / "latin1.csv"
    rows = f"{day('2024-01-02')}\n" * good_rows
    bad = "2024-01-03,1\u00e90,11,9,10.5,100\n".encode("latin-1")
    path.write_bytes((HEADER + rows).encode() + bad)
    with pytest.raises(ValidationError, match=rf"line {good_rows + 2}, column 'Open': byte 0xe9"):
        load(path, FileMapping(symbol="XYZ"))


def test_text_in_a_number_column_names_its_line_and_column(tmp_path: Path) -> None:
    path = bars_file(tmp_path, [day("2024-01-02"), "2024-01-03,10,eleven,9,10.5,100"])
    with pytest.raises(ValidationError, match="line 3, column 'High': cannot read 'eleven'"):
        load(path, FileMapping(symbol="XYZ"))
