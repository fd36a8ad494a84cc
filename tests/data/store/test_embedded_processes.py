"""Crash safety and concurrent reading of the embedded store, with real processes."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from cift.data.store.embedded import EmbeddedStore
from cift.data.store.embedded.files import TMP_DIR
from cift.model import DataKind
from tests.data.store.writer_process import BATCH_ROWS, batch
from tests.fresh import Reap

pytestmark = pytest.mark.slow
ROOT_DIR = Path(__file__).resolve().parents[3]


def start_writer(root: Path, first: int, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.data.store.writer_process",
            str(root),
            str(first),
            str(count),
        ],
        cwd=ROOT_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )


def stored_batches(store: EmbeddedStore) -> list[int]:
    ids = store.read(DataKind.TRADES, columns=["trade_id"]).collect().get_column("trade_id")
    prefixes = ids.str.extract(r"^b(\d+)-").cast(pl.Int64).value_counts()
    assert prefixes.get_column("count").to_list() == [BATCH_ROWS] * prefixes.height, (
        "a batch is visible only in part"
    )
    return sorted(prefixes.get_column("trade_id").to_list())


def test_sigkill_at_any_moment_loses_no_committed_batch_and_shows_no_partial_one(
    tmp_path: Path, reap: Reap
) -> None:
    root = tmp_path / "market"
    rng = random.Random(7)
    committed_total = 0
    for _ in range(6):
        writer = reap(start_writer(root, committed_total, 0))  # writes until killed
        assert writer.stdout is not None
        printed = []
        while len(printed) < 2:
            printed.append(int(writer.stdout.readline().split()[1]))
        time.sleep(rng.uniform(0, 0.15))  # land the kill anywhere inside a later write
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        batches = stored_batches(EmbeddedStore(root))
        assert batches == list(range(len(batches))), "batches are missing in the middle"
        assert len(batches) >= printed[-1] + 1, "a batch reported as committed was lost"
        committed_total = len(batches)
    store = EmbeddedStore(root)
    expected = pl.concat([batch(i) for i in range(committed_total)])
    stored = store.read(DataKind.TRADES).collect()
    assert stored.height == expected.height
    assert stored.sort("trade_id").equals(expected.sort("trade_id"))
    store.vacuum()
    assert not list((root / TMP_DIR).glob("*"))


def test_readers_see_whole_batches_while_another_process_writes(tmp_path: Path, reap: Reap) -> None:
    root = tmp_path / "market"
    store = EmbeddedStore(root)
    writer = reap(start_writer(root, 0, 25))
    seen: list[int] = []
    try:
        while writer.poll() is None:
            seen.append(len(stored_batches(store)))
            store.read(DataKind.TRADES, symbols=["AAPL"]).collect()
    finally:
        assert writer.wait(timeout=120) == 0
        assert writer.stdout is not None
        writer.stdout.close()
    seen.append(len(stored_batches(store)))
    assert seen == sorted(seen), "a reader saw rows disappear"
    assert seen[-1] == 25
    assert len(set(seen)) > 2, "the reader never overlapped the writer"
