"""Output piped or redirected (to ``cat``, a file, another program) cuts no value: the
listings print every cell whole, whatever the terminal would have been."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.table import Table

from cift.cli.console import PIPED_WIDTH, CiftConsole, console
from tests.cli.running import cift
from tests.samples import NVDA


def piped(home: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env |= {"CIFT_HOME": str(home), "CIFT_LOG_LEVEL": "WARNING"}
    done = subprocess.run(
        [sys.executable, "-m", "cift", *args],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return done.stdout


def test_listings_through_a_pipe_cut_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    piped(home, "data", "import", str(NVDA), "--symbol", "NVDA-DAILY-SAMPLE")
    listed = piped(home, "data", "ls")
    assert "…" not in listed
    assert "NVDA-DAILY-SAMPLE" in listed
    assert "4,012" in listed
    shown = piped(home, "data", "show", "NVDA-DAILY-SAMPLE", "--limit", "3")
    assert "…" not in shown
    assert "1999-01-22 00:00:00" in shown


def test_every_listing_through_a_pipe_cuts_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs, feature sets, alerts and quality listings of long names print them whole at
    the width piped output gets (the test above checks a pipe gets it)."""
    monkeypatch.setattr(console, "width", PIPED_WIDTH)
    long_symbol = "NVDA-DAILY-SAMPLE-LONG-NAME"
    cift("data", "import", str(NVDA), "--symbol", long_symbol)
    cift(
        "features",
        "compute",
        "--features",
        "rsi(14)",
        "--name",
        "swing-long-name-x",
        "--timeframe",
        "1D",
    )
    cift(
        "backtest",
        "run",
        "donchian_breakout",
        "--symbols",
        long_symbol,
        "--name",
        "a long run label",
    )
    cift("alerts", "add", "a rather long alert rule name", "--symbol", long_symbol, "--above", "1")
    cift("alerts", "check")
    listings = {
        ("data", "ls"): [long_symbol, "4,012"],
        ("features", "ls"): ["swing-long-name-x-"],
        ("backtest", "ls"): ["donchian_breakout", long_symbol],
        ("alerts", "ls"): ["a rather long alert rule name", long_symbol, "price above 1"],
        ("data", "quality", long_symbol): [long_symbol],
        ("users", "ls"): ["local"],
    }
    for args, whole in listings.items():
        shown = cift(*args)
        assert "…" not in shown, args
        assert all(value in shown for value in whole), (args, shown)


def test_a_narrow_terminal_wraps_long_values_and_says_what_it_leaves_out() -> None:
    table = Table(title="Stored market data")
    for name in ("kind", "timeframe", "symbol", "first", "last", "rows"):
        table.add_column(name)
    table.add_row("bars", "1m", "AAPL", "2024-01-02 14:30:00", "2024-03-28 19:59:00", "23,682")
    screen = CiftConsole(width=80, record=True, file=io.StringIO())
    screen.print(table)
    text = screen.export_text()
    assert "…" not in text
    assert all(v in text for v in ("bars", "timeframe", "AAPL", "23,682", "2024-01-02"))
    wide = Table()
    for index in range(12):
        wide.add_column(f"column {index}")
    wide.add_row(*(f"value-{index:02d}" for index in range(12)))
    screen.print(wide)
    text = screen.export_text()
    assert "…" not in text
    assert "value-00" in text
    assert "value-06" in text
    assert "Left out at this width: column 7, column 8" in " ".join(text.split())
