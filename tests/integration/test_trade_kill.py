"""``cift trade run`` killed with SIGKILL at random moments (3 times; ``make test-deep``:
30) and resumed each time: no order is duplicated, no fill lost, positions are the sum
of fills, and the parity replay through the backtest engine finds no unexplained
difference."""

from __future__ import annotations

import itertools
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cift.core.settings import Settings
from cift.data.store import open_store
from cift.db.engine import create_db_engine, database_url, session_factory
from cift.db.models.ledger import LedgerFill, LedgerOrder, TradingRun
from cift.execution.parity import parity
from tests.budget import deep
from tests.conftest import SettingsFactory
from tests.execution.ledgers import assert_consistent
from tests.fresh import Reap
from tests.serving import environment as _environment

pytestmark = pytest.mark.slow

T = TypeVar("T")

KILLS = deep(3)
PROGRESS = 40
"""Bars each process trades before it may be killed."""
ARGS = ["--account", "paper-1", "--speed", "1200"]
FIRST = [
    "--strategy",
    "sma_cross",
    "--symbols",
    "AAA,BBB",
    "--param",
    "fast=3",
    "--param",
    "slow=8",
]


def trade(home: Path, *extra: str, errors: int = subprocess.DEVNULL) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cift", "trade", "run", *ARGS, *extra],
        env=_environment(home),
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )


def test_a_runner_killed_again_and_again_loses_and_repeats_nothing(
    tmp_path: Path, make_settings: SettingsFactory, reap: Reap
) -> None:
    home = tmp_path / "cift-home"
    settings = make_settings(home=home)
    chaos = random.Random(5)
    process = reap(trade(home, *FIRST, "--duration", "600s"))
    run_id = _waiting(settings, process, lambda session: session.scalar(select(TradingRun.id)))
    seen = 0
    for kill in range(KILLS + 1):
        # Each process trades bars of its own first, then dies at a random instant.
        seen = _bars_past(settings, process, run_id, seen + PROGRESS)
        time.sleep(chaos.uniform(0.0, 1.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        if kill < KILLS:
            process = reap(trade(home, "--resume", str(run_id), "--duration", "600s"))
    assert run_id is not None
    final = reap(trade(home, "--resume", str(run_id), "--duration", "2s", errors=subprocess.PIPE))
    _, errors = final.communicate(timeout=120)
    assert final.returncode == 0, errors.decode()[-2000:]

    engine = create_db_engine(settings)
    db = session_factory(engine)
    with db() as session:
        run = session.get(TradingRun, run_id)
        assert run is not None
        orders = list(session.scalars(select(LedgerOrder).order_by(LedgerOrder.created_at)))
        fills = list(session.scalars(select(LedgerFill)))
    assert_consistent(db, run.account_id)  # positions = fills, cash = movements
    assert run.bars_seen > 200
    assert len(fills) > 20
    # one order per decision (signal) and every order closed: filled or canceled at stop
    assert len({o.signal_id for o in orders}) == len(orders)
    assert all(o.state.is_terminal for o in orders)
    assert all(o.filled_quantity <= o.quantity for o in orders)
    # sma_cross is long or flat: each symbol's fills alternate buy, sell (a repeated
    # entry would be two buys in a row)
    sides: dict[str, list[int]] = defaultdict(list)
    for order in orders:
        if order.filled_quantity:
            sides[order.symbol].append(order.side)
    for symbol, sequence in sides.items():
        assert all(a != b for a, b in itertools.pairwise(sequence)), symbol
    # and the run, crashes and all, is what the backtest engine does on the same bars
    store = open_store(settings)
    report = parity(db, settings, store, run.user_id, run.id)
    store.close()
    engine.dispose()
    assert report.unexplained == 0, [d for d in report.differences if not d.explained][:3]
    assert report.matched > 20


def _bars_past(
    settings: Settings, process: subprocess.Popen[bytes], run_id: uuid.UUID, bars: int
) -> int:
    """The run's count of bars seen, once it is past ``bars``."""

    def seen(session: Session) -> int | None:
        run = session.get(TradingRun, run_id)
        return run.bars_seen if run is not None and run.bars_seen > bars else None

    return _waiting(settings, process, seen)


def _waiting(
    settings: Settings, process: subprocess.Popen[bytes], check: Callable[[Session], T | None]
) -> T:
    """Read the ledger until ``check`` finds something, while the runner stays up (the
    first runner makes the database: it is not touched before it exists)."""
    made = Path(str(database_url(settings).database))
    engine = create_db_engine(settings)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            assert process.poll() is None, f"the runner exited with {process.returncode}"
            found = None
            if made.exists():
                with suppress(OperationalError), session_factory(engine)() as session:
                    found = check(session)  # (no such table while it migrates)
            if found is not None:
                return found
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise AssertionError("the runner made no progress in 120 s")
