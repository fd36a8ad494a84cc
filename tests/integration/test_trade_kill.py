"""``cift trade run`` killed with SIGKILL at random moments (4 times; ``make test-deep``:
40) and resumed each time: no order is duplicated, no fill lost, positions are the sum
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
from pathlib import Path

import pytest
from sqlalchemy import select

from cift.core.settings import Settings
from cift.data.store import open_store
from cift.db.engine import create_db_engine, session_factory
from cift.db.models.ledger import LedgerFill, LedgerOrder, TradingRun
from cift.execution.parity import parity
from tests.budget import deep
from tests.conftest import SettingsFactory
from tests.execution.ledgers import assert_consistent
from tests.serving import environment as _environment

pytestmark = pytest.mark.slow

KILLS = deep(4)
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
    tmp_path: Path, make_settings: SettingsFactory
) -> None:
    home = tmp_path / "cift-home"
    settings = make_settings(home=home)
    chaos = random.Random(5)
    process = trade(home, *FIRST, "--duration", "600s")
    time.sleep(6.0)  # past the start, so the run is recorded
    run_id = None
    for _ in range(KILLS):
        process.send_signal(signal.SIGKILL)
        process.wait()
        run_id = run_id or _only_run(settings)
        process = trade(home, "--resume", str(run_id), "--duration", "600s")
        time.sleep(chaos.uniform(4.0, 7.0))
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert run_id is not None
    final = trade(home, "--resume", str(run_id), "--duration", "4s", errors=subprocess.PIPE)
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


def _only_run(settings: Settings) -> uuid.UUID:
    engine = create_db_engine(settings)
    try:
        with session_factory(engine)() as session:
            (run_id,) = session.scalars(select(TradingRun.id)).all()
    finally:
        engine.dispose()
    return run_id
