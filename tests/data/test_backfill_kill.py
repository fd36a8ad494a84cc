"""A backfill from the simulator killed with SIGKILL mid-way, then run again, stores
exactly the rows of an uninterrupted run: no gap, no duplicate."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from cift.core.settings import load_settings
from cift.data.store import open_store
from cift.model import DataKind
from tests.fresh import Reap

ARGS = [
    "data",
    "backfill",
    "--provider",
    "synthetic",
    "--symbols",
    "AAA,BBB,CCC",
    "--kind",
    "quotes",
    "--start",
    "2024-02-01",
    "--end",
    "2024-02-15",
    "--chunk",
    "1D",
    "--concurrency",
    "2",
]
CHUNKS = 3 * 15  # three symbols, a chunk per day from Feb 1 to 15 (the end is inclusive)


def backfill(home: Path, errors: int = subprocess.PIPE) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CIFT_HOME": str(home), "CIFT_LOG_LEVEL": "WARNING"}
    code = "from cift.cli.app import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", code, *ARGS],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )


def recorded_chunks(home: Path) -> int:
    try:
        with sqlite3.connect(home / "cift.db", timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM backfill_checkpoints").fetchone()[0])
    except sqlite3.OperationalError:  # not created or not migrated yet
        return 0


def stored_quotes(home: Path) -> pl.DataFrame:
    store = open_store(load_settings(home=home))
    try:
        return store.read(DataKind.QUOTES).collect()
    finally:
        store.close()


def test_killed_backfill_resumes_to_exactly_the_uninterrupted_rows(
    tmp_path: Path, reap: Reap
) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    uninterrupted = reap(backfill(whole))
    _, errors = uninterrupted.communicate(timeout=300)
    assert uninterrupted.returncode == 0, errors.decode()

    victim = reap(backfill(killed, errors=subprocess.DEVNULL))
    deadline = time.monotonic() + 240
    while recorded_chunks(killed) < 8 and time.monotonic() < deadline:
        assert victim.poll() is None, "the backfill ended before it could be killed"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    done_at_kill = recorded_chunks(killed)
    assert 8 <= done_at_kill < CHUNKS

    resumed = reap(backfill(killed))
    _, errors = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, errors.decode()
    assert recorded_chunks(killed) == recorded_chunks(whole) == CHUNKS

    expected, got = stored_quotes(whole), stored_quotes(killed)
    assert expected.height > 0
    assert_frame_equal(got, expected)
