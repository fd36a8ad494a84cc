"""The broker fault campaign: orders through the OMS to the local Alpaca server while it
misbehaves at random (seeded) and the trading process is killed with SIGKILL; then the
ledger is reconciled and checked against the server.

    python -m tests.execution.fault_campaign --orders 1000 --kills 10 --seed 7

A child process trades: it submits orders under deterministic signal ids (a restart
submits them all again: the same ids, so nothing twice), books the broker's events and
reconciles after each reconnect. The parent runs the server, moves its prices, injects
faults (500s and 429s, answers lost after the order was taken, stream events dropped,
repeated or held back, the stream cut) and kills the child at random moments. At the end
one last child recovers and reconciles; the result counts duplicates (a signal placed as
two orders), lost fills (an execution at the server the ledger misses, or more) and
position mismatches (before any adjustment).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from cift.audit.chain import Actor
from cift.core.errors import BrokerError
from cift.core.settings import Settings, load_settings
from cift.db import migrate
from cift.db.engine import create_db_engine, session_factory
from cift.db.models import (
    AccountMode,
    BrokerKind,
    LedgerOrder,
    LedgerPosition,
    Role,
    TradingAccount,
)
from cift.execution.accounts import AccountSpec, open_account
from cift.execution.brokers.alpaca.factories import create_broker
from cift.execution.ledger import OPEN_STATES
from cift.execution.oms import OrderManager
from cift.execution.reconcile import reconcile
from cift.execution.recovery import recover
from cift.execution.requests import OrderRequest
from cift.identity import users
from tests.execution.alpaca_server import KEY_ID, SECRET, AlpacaServer
from tests.fresh import reaped

ROOT = Path(__file__).resolve().parents[2]
SYMBOLS = ["AAA", "BBB", "CCC"]
KEYS = "CIFT_CAMPAIGN_ALPACA"
FAULTS = (
    "http_500",
    "http_429",
    "lose_answer",
    "drop_events",
    "duplicate_events",
    "hold_events",
    "drop_stream",
)


@dataclass
class Outcome:
    orders: int = 0
    placed: int = 0
    refused: int = 0
    filled: int = 0
    kills: int = 0
    crashes: list[str] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    lost_fills: int = 0
    position_mismatches: int = 0

    def rows(self) -> list[tuple[str, str]]:
        injected = [(f"fault: {k}", str(v)) for k, v in sorted(self.faults.items())]
        return [
            *injected,
            ("runner killed (SIGKILL)", str(self.kills)),
            ("runner crashed", str(len(self.crashes))),
            ("orders", str(self.orders)),
            ("placed at the broker", str(self.placed)),
            ("refused before sending", str(self.refused)),
            ("with fills", str(self.filled)),
            ("duplicates", str(self.duplicates)),
            ("lost fills", str(self.lost_fills)),
            ("position mismatches after reconciliation", str(self.position_mismatches)),
        ]


def request(index: int, rng: random.Random) -> OrderRequest:
    """Signal ``index``'s order: the same on every run of the same seed."""
    return OrderRequest(
        symbol=rng.choice(SYMBOLS),
        side=rng.choice((1, -1)),
        quantity=Decimal(rng.randint(1, 9)),
        signal_id=f"campaign-{index}",
    )


def settings_for(home: Path, server_url: str) -> Settings:
    return load_settings(home=home, alpaca_paper_url=server_url, provider_max_retries=4)


def child(home: Path, server_url: str, account_id: uuid.UUID, orders: int, seed: int) -> None:
    """Trade every signal (again), booking news as it comes; exits when all are placed
    and nothing of them is left working."""
    settings = settings_for(home, server_url)
    engine = create_db_engine(settings)
    db = session_factory(engine)
    with db() as session:
        account = session.get(TradingAccount, account_id)
        assert account is not None
    broker = create_broker(settings, account, backoff=0.01)
    oms = OrderManager(db, account_id, broker)
    oms.marks = {symbol: Decimal(100) for symbol in SYMBOLS}
    _patiently(lambda: recover(oms))
    rng = random.Random(seed)
    for index in range(orders):
        oms.submit(request(index, rng))
        if broker.reconnected():
            _patiently(lambda: reconcile(oms, broker, Actor(None, "campaign"), fix=False))
        if index % 5 == 0:
            oms.process()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        oms.process()
        _patiently(lambda: reconcile(oms, broker, Actor(None, "campaign"), fix=False))
        with db() as session:
            working = session.scalars(
                select(LedgerOrder.id).where(LedgerOrder.state.in_(OPEN_STATES))
            ).first()
        if working is None:
            break
        time.sleep(0.1)
    broker.close()
    engine.dispose()


def _patiently(call: Any) -> Any:
    """Call until the broker answers (a runner waits out an outage the same way)."""
    while True:
        try:
            return call()
        except BrokerError:
            time.sleep(0.2)


def campaign(home: Path, orders: int, kills: int, seed: int) -> Outcome:
    """Run the whole campaign in ``home``; what it found."""
    rng = random.Random(seed)
    outcome = Outcome(orders=orders)
    os.environ[KEYS] = f"{KEY_ID}:{SECRET}"
    with AlpacaServer(fill_step=Decimal(3)) as server, reaped() as track:
        settings = settings_for(home, server.url)
        engine = create_db_engine(settings)
        migrate.upgrade(engine)
        db = session_factory(engine)
        account_id = _account(db, settings)
        for symbol in SYMBOLS:
            server.price(symbol, 100.0)
        deadline = time.monotonic() + 600
        process = track(_spawn(home, server.url, account_id, orders, seed))
        kill_at = sorted(rng.uniform(0.05, 0.95) * orders for _ in range(kills))
        while process.poll() is None and time.monotonic() < deadline:
            _tick(server, rng)
            placed = len(set(server.posted))
            if kill_at and placed >= kill_at[0]:
                kill_at.pop(0)
                time.sleep(rng.uniform(0, 0.05))
                process.send_signal(signal.SIGKILL)
                process.wait()
                outcome.kills += 1
                process = track(_spawn(home, server.url, account_id, orders, seed))
        _exited(home, process, outcome)
        for _ in range(20):  # every remaining order may fill
            for symbol in SYMBOLS:
                server.price(symbol, 100.0)
        server.faults = type(server.faults)(injected=server.faults.injected)
        last = track(_spawn(home, server.url, account_id, orders, seed))
        last.wait(120)
        _exited(home, last, outcome)
        outcome.faults = dict(server.faults.injected)
        _check(db, account_id, server, outcome)
        engine.dispose()
    return outcome


def _exited(home: Path, process: subprocess.Popen[bytes], outcome: Outcome) -> None:
    """Note a child that ended on its own with an error, with the end of what it said."""
    if process.returncode not in (0, None):
        said = (home / "child.log").read_text(errors="replace").strip().splitlines()
        outcome.crashes.append("\n".join(said[-15:]) or f"exit code {process.returncode}")


def _tick(server: AlpacaServer, rng: random.Random) -> None:
    """Move the prices and arm a fault now and then."""
    for symbol in SYMBOLS:
        server.price(symbol, 100.0 + rng.uniform(-1, 1))
    if rng.random() < 0.3:
        fault = rng.choice(FAULTS)
        if fault == "drop_stream":
            server.drop_streams()
        elif not getattr(server.faults, fault):  # one of a kind armed at a time
            setattr(server.faults, fault, 1)
    time.sleep(0.02)


def _check(db: Any, account_id: uuid.UUID, server: AlpacaServer, outcome: Outcome) -> None:
    with db() as session:
        ledger = {
            o.client_order_id: o
            for o in session.scalars(
                select(LedgerOrder).where(LedgerOrder.account_id == account_id)
            )
        }
    at_server = {o["client_order_id"]: o for o in server.orders.values()}
    outcome.placed = len(at_server)
    outcome.refused = sum(1 for o in ledger.values() if o.state.value == "rejected")
    outcome.filled = sum(1 for o in ledger.values() if o.filled_quantity > 0)
    outcome.duplicates = (
        len(server.posted)
        - len(set(server.posted))
        + sum(1 for client in at_server if client not in ledger)
    )
    executed: dict[str, Decimal] = {}
    for execution in server.executions:
        executed[execution["client"]] = (
            executed.get(execution["client"], Decimal(0)) + execution["qty"]
        )
    outcome.lost_fills = sum(
        1
        for client, order in ledger.items()
        if executed.get(client, Decimal(0)) != order.filled_quantity
    )
    broker_positions = {s: q for s, q in server.positions.items() if q}
    with db() as session:
        rows = session.scalars(
            select(LedgerPosition).where(LedgerPosition.account_id == account_id)
        )
        held = {p.symbol: p.quantity for p in rows if p.quantity}
    outcome.position_mismatches = sum(
        1
        for symbol in set(held) | set(broker_positions)
        if held.get(symbol, Decimal(0)) != broker_positions.get(symbol, Decimal(0))
    )


def _account(db: Any, settings: Settings) -> uuid.UUID:
    owner = users.create_user(
        db, settings, Actor(None, "campaign"), username="campaign",
        email="campaign@example.com", password="correct horse battery staple", role=Role.TRADER,
    )  # fmt: skip
    spec = AccountSpec(
        name="alpaca-paper", broker=BrokerKind.ALPACA, mode=AccountMode.PAPER,
        initial_cash=Decimal(1_000_000), credentials_ref=KEYS,
    )  # fmt: skip
    return open_account(db, owner.id, spec).id


def _spawn(
    home: Path, server_url: str, account_id: uuid.UUID, orders: int, seed: int
) -> subprocess.Popen[bytes]:
    args = ["child", str(home), server_url, str(account_id), str(orders), str(seed)]
    with (home / "child.log").open("wb") as said:  # the child's own copy stays open
        return subprocess.Popen(
            [sys.executable, "-m", "tests.execution.fault_campaign", *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=said,
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        home, url, account, orders, seed = sys.argv[2:7]
        child(Path(home), url, uuid.UUID(account), int(orders), int(seed))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    import tempfile

    from rich.console import Console
    from rich.table import Table

    with tempfile.TemporaryDirectory() as tmp:
        began = time.monotonic()
        outcome = campaign(args.home or Path(tmp), args.orders, args.kills, args.seed)
        table = Table(title=f"fault campaign, seed {args.seed} ({time.monotonic() - began:.0f} s)")
        table.add_column("what")
        table.add_column("count", justify="right")
        for row in outcome.rows():
            table.add_row(*row)
        Console().print(table)


if __name__ == "__main__":
    main()
