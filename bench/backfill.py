"""Peak memory of a backfill stays bounded by the page size, not by the rows fetched.

    python bench/backfill.py [--symbols 20] [--days 10,40,100]

Runs ``cift data backfill --provider synthetic --kind trades`` in a fresh process for
ranges of growing length (the simulator makes about 5,000 trades per symbol and
session), and reports rows stored, wall time, rows/s and the process's peak resident
memory. Flat peak memory across row counts is the point: pages are written to the
store as they arrive, never collected.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import exchange_calendars as xcals

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cift.core.settings import load_settings
from cift.data.store import open_store
from cift.model import DataKind

from common import machine, table

FIRST = date(2023, 1, 3)


def end_after(sessions: int) -> date:
    """The calendar day on which the ``sessions``-th XNYS session from FIRST falls."""
    calendar = xcals.get_calendar("XNYS")
    days = calendar.sessions_in_range(FIRST, FIRST + timedelta(days=sessions * 2))
    return days[sessions - 1].date()  # type: ignore[no-any-return]


def run(symbols: int, sessions: int, home: Path) -> tuple[int, float, float]:
    names = ",".join(f"S{i:03d}" for i in range(symbols))
    args = [
        *("data", "backfill", "--provider", "synthetic", "--kind", "trades"),
        *("--symbols", names, "--start", FIRST.isoformat()),
        *("--end", end_after(sessions).isoformat(), "--concurrency", "2"),
    ]
    env = {**os.environ, "CIFT_HOME": str(home), "CIFT_LOG_LEVEL": "WARNING"}
    began = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", "from cift.cli.app import main; main()", *args],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak RSS, in KiB
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"the backfill failed with exit code {child.returncode}")
    seconds = time.perf_counter() - began
    peak_kib = usage.ru_maxrss
    store = open_store(load_settings(home=home))
    rows = int(store.coverage(DataKind.TRADES).get_column("rows").sum())
    store.close()
    return rows, seconds, peak_kib / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--days", default="10,40,100", help="Sessions per run, growing.")
    args = parser.parse_args()
    print(machine())
    rows = []
    for sessions in sorted(int(d) for d in args.days.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            stored, seconds, peak = run(args.symbols, sessions, Path(tmp))
        rows.append(
            [
                f"{args.symbols} x {sessions} sessions",
                f"{stored:,}",
                f"{seconds:.1f}",
                f"{stored / seconds:,.0f}",
                f"{peak:,.0f}",
            ]
        )
        print(rows[-1], flush=True)
    header = ["backfill", "rows stored", "s", "rows/s", "peak RSS MiB"]
    print(table("Backfill of synthetic trades", header, rows))


if __name__ == "__main__":
    main()
