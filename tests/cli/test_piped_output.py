"""Output piped or redirected (to ``cat``, a file, another program) cuts no value: the
listings print every cell whole, whatever the terminal would have been."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

NVDA = Path(__file__).resolve().parents[3] / "shared" / "data" / "daily" / "nvda-1999-2014.csv"


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
