"""`cift data` import, ls, show, export and compact, as a user runs them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cift.cli.app import app
from tests.samples import DATA

runner = CliRunner()
MINUTE_COLUMNS = "Date,Time,Open,High,Low,Close,Volume,OpenInterest"

IMPORTS = {
    "daily/nvda-1999-2014.csv": [],
    "daily/orcl-1995-2014.csv": [],
    "minute/2006-01-02-volume-min-001.csv": ["--columns", MINUTE_COLUMNS, "--tz", "Europe/Berlin"],
    "minute/6EH4-cme-1min-2024-01.csv.gz": [],
    "minute/gbpusd-m1-bid-2012.csv": ["--symbol", "GBPUSD.BID"],
    "minute/gbpusd-m1-ask-2012.csv": ["--symbol", "GBPUSD.ASK"],
    "ticks/usdjpy-quotes-truefx.csv": [],
    "ticks/btcusdt-trades-binance.parquet": [],
    "ticks/btcusdt-quotes-binance.parquet": [],
    "ticks/ticksample.csv": ["--kind", "trades", "--map", "Close=price"],
}


def cift(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def stored_rows() -> dict[str, int]:
    rows = json.loads(cift("data", "ls", "--json"))
    return {f"{r['kind']}/{r['timeframe']}/{r['symbol']}": r["rows"] for r in rows}


@pytest.mark.parametrize("name", sorted(IMPORTS))
def test_each_sample_file_imports_once_and_shows(name: str) -> None:
    first = json.loads(cift("data", "import", str(DATA / name), *IMPORTS[name], "--json"))[0]
    assert first["rows_stored"] > 0
    assert first["rows_stored"] + sum(first["rejected"].values()) == first["rows_read"]
    counts = stored_rows()
    again = json.loads(cift("data", "import", str(DATA / name), *IMPORTS[name], "--json"))[0]
    assert again["rows_stored"] == 0
    assert stored_rows() == counts
    symbol = first["symbols"][0]
    shown = json.loads(cift("data", "show", symbol, "--limit", "5", "--json"))
    assert len(shown) == 5
    table = cift("data", "show", symbol, "--limit", "3")
    assert symbol in table


def test_quality_and_export_read_the_one_stored_timeframe_and_ask_among_several(
    tmp_path: Path,
) -> None:
    cift("data", "import", str(DATA / "daily/nvda-1999-2014.csv"))
    shown = json.loads(cift("data", "quality", "NVDA", "--json"))
    assert shown["rows"] == 4012  # the daily bars, not "no 1Min bars"
    out = tmp_path / "nvda.csv"
    cift("data", "export", "NVDA", "-o", str(out))
    assert pl.read_csv(out).height == 4012
    cift("data", "import", str(DATA / "minute/6EH4-cme-1min-2024-01.csv.gz"), "--symbol", "NVDA")
    for command in (["quality", "NVDA"], ["export", "NVDA", "-o", str(out)], ["show", "NVDA"]):
        result = runner.invoke(app, ["data", *command])
        assert result.exit_code == 2, result.output  # a request to make precise
        assert "1d" in result.output
        assert "1m" in result.output


def test_show_asks_which_dataset_when_several_exist() -> None:
    cift("data", "import", str(DATA / "daily/nvda-1999-2014.csv"))
    cift(
        "data",
        "import",
        str(DATA / "daily/nvda-1999-2014.csv"),
        "--symbol",
        "NVDA",
        "--timeframe",
        "1D",
    )
    result = runner.invoke(app, ["data", "show", "NVDA", "--kind", "trades"])
    assert result.exit_code == 1
    assert "No trades stored for 'NVDA'" in result.output
    reversed_range = ["--kind", "bars", "--timeframe", "1d", "--start", "2010-01-01"]
    result = runner.invoke(app, ["data", "show", "NVDA", *reversed_range, "--end", "2009-01-01"])
    assert result.exit_code == 2  # a mistake to say, not an empty table
    assert "The end '2009-01-01' is not after the start '2010-01-01'" in result.output


def test_export_round_trips_through_parquet_and_csv(tmp_path: Path) -> None:
    cift("data", "import", str(DATA / "minute/6EH4-cme-1min-2024-01.csv.gz"))
    exports = tmp_path / "exports"
    parquet, csv = exports / "out.parquet", exports / "out.csv"
    cift(
        "data",
        "export",
        "6EH4",
        "--output",
        str(parquet),
        "--timeframe",
        "1m",
        "--start",
        "2024-01-02",
        "--end",
        "2024-01-02",
    )
    frame = pl.read_parquet(parquet)
    assert frame.get_column("ts").dt.date().unique().to_list() == [date(2024, 1, 2)]
    cift("data", "export", "6EH4", "-o", str(csv), "--timeframe", "1m")
    assert pl.read_csv(csv).height == 29_996
    assert sorted(p.name for p in exports.iterdir()) == ["out.csv", "out.parquet"]


def test_import_errors_are_one_clear_line(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["data", "import", str(DATA / "minute/2006-01-02-volume-min-001.csv")]
    )
    assert result.exit_code == 2
    assert "pass --columns with 8" in result.output
    assert "[validation]" in result.output
    missing = runner.invoke(app, ["data", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2
    assert "no such file" in missing.output
    folder = runner.invoke(app, ["data", "import", str(tmp_path)])
    assert folder.exit_code == 2
    assert "is a folder; name the files in it" in folder.output
    (tmp_path / "one.csv").write_text("just one line\n")
    empty = runner.invoke(app, ["data", "import", str(tmp_path / "one.csv")])
    assert empty.exit_code == 2
    assert "has no rows (a file to import has a header line" in empty.output


def test_ls_on_an_empty_store_says_what_to_do() -> None:
    assert "cift data import" in cift("data", "ls")


def test_compact_after_many_small_imports(tmp_path: Path) -> None:
    frame = pl.read_parquet(DATA / "ticks/btcusdt-trades-binance.parquet")
    for index, part in enumerate(frame.iter_slices(500)):
        path = tmp_path / f"btc-{index}.parquet"
        part.write_parquet(path)
        cift("data", "import", str(path), "--symbol", "BTCUSDT")
    output = cift("data", "compact")
    assert "files -> 1" in output
    assert stored_rows()["trades/None/BTC/USDT"] == frame.height


def test_nothing_matching_is_said_plainly_with_its_own_exit_code() -> None:
    cift("data", "import", str(DATA / "daily/nvda-1999-2014.csv"))
    before = ["data", "show", "NVDA", "--start", "1980-01-01", "--end", "1980-12-31"]
    result = runner.invoke(app, before)
    assert result.exit_code == 3, result.output
    assert "No bars of NVDA from 1980-01-01 to 1980-12-31" in result.output
    result = runner.invoke(app, ["data", "quality", "NVDA", "--timeframe", "1Min"])
    assert result.exit_code == 3, result.output
    assert "No bars of 1Min stored for NVDA at all" in result.output
    assert "Quality of 0" not in result.output
    shown = json.loads(cift("data", "quality", "NVDA", "--timeframe", "1D", "--json"))
    assert shown["rows"] > 3_000  # the stored daily bars are checked as before


def test_one_symbol_across_kinds_and_spellings() -> None:
    """Binance's quotes name the pair in a column (BTC/USDT); trades imported with
    --symbol BTCUSDT are the same instrument, and any spelling finds both."""
    cift("data", "import", str(DATA / "ticks/btcusdt-quotes-binance.parquet"))
    cift(
        "data", "import", str(DATA / "ticks/btcusdt-trades-binance.parquet"), "--symbol", "BTCUSDT"
    )
    listing = json.loads(cift("data", "ls", "--json"))
    assert {(row["kind"], row["symbol"]) for row in listing} == {
        ("quotes", "BTC/USDT"),
        ("trades", "BTC/USDT"),
    }
    for spelling in ("btcusdt", "BTC-USDT", "BTC/USDT"):
        trades = json.loads(cift("data", "show", spelling, "--kind", "trades", "--json"))
        assert len(trades) == 20
        assert {row["symbol"] for row in trades} == {"BTC/USDT"}
