"""Trading: the OMS round trip and the live runner's pace.

1. Order submit -> accepted through the OMS (risk checks on the ledger, the order
   persisted before it is sent), the paper broker and the answer booked, on SQLite and on
   PostgreSQL: per-order latency (p50, p99) and orders per second, one order at a time.
   Next to it, the floor under any persisted OMS on the same database: the same two
   commits (an insert, then an update of its state) written by hand with SQLAlchemy Core.
2. The live runner over 100 symbols of minute bars (sma_cross on the paper broker): bars
   per second it processes, against the 167 bars/s that 100 symbols at 100x speed bring.

    python bench/trading.py [--orders 2000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, insert, make_url, text, update

from cift.backtest.config import BacktestConfig
from cift.core.settings import load_settings
from cift.db import migrate
from cift.db.base import utcnow
from cift.db.engine import create_db_engine, session_factory, transaction
from cift.db.models import Role
from cift.db.models.ledger import LedgerOrder, LedgerOrderType, LedgerTimeInForce, OrderState
from cift.execution.accounts import AccountSpec, open_account
from cift.execution.brokers.paper import PaperBroker
from cift.execution.live.session import account_runner
from cift.execution.oms import OrderManager
from cift.execution.requests import OrderRequest
from cift.execution.runs import start_run
from cift.identity import users
from cift.strategy.builtin.sma_cross import SmaCross

from common import machine, minute_bars, table

SYMBOLS = [f"S{i:03d}" for i in range(100)]


def _sessions(home: Path, url: str | None):  # type: ignore[no-untyped-def]
    settings = load_settings(home=home, **({"database_url": url} if url else {}))
    engine = create_db_engine(settings)
    migrate.upgrade(engine)
    return settings, engine, session_factory(engine)


def _account(db, settings, cash: int = 10**9):  # type: ignore[no-untyped-def]
    from cift.audit import Actor

    owner = users.create_user(
        db, settings, Actor(None, "bench"), username=f"b{uuid.uuid4().hex[:8]}",
        email=f"{uuid.uuid4().hex[:8]}@example.com", password="correct horse battery staple",
        role=Role.TRADER,
    )  # fmt: skip
    return owner, open_account(db, owner.id, AccountSpec(name="bench", initial_cash=Decimal(cash)))


def oms_round_trip(db, account_id: uuid.UUID, orders: int) -> list[float]:  # type: ignore[no-untyped-def]
    broker = PaperBroker(SYMBOLS, BacktestConfig(), cash=1e9)
    broker.on_bar(SYMBOLS[0], 0, 60_000_000_000, (100.0, 100.0, 100.0, 100.0, 1e9))
    oms = OrderManager(db, account_id, broker)
    oms.marks = {s: Decimal(100) for s in SYMBOLS}
    times = []
    for i in range(orders):
        if i and i % len(SYMBOLS) == 0:  # a bar per symbol fills them (untimed), as live
            for symbol in SYMBOLS:
                t = i * 60_000_000_000
                broker.on_bar(symbol, t, t + 60_000_000_000, (100.0, 100.0, 100.0, 100.0, 1e9))
            oms.process()
        request = OrderRequest(
            symbol=SYMBOLS[i % len(SYMBOLS)], side=1, quantity=Decimal(1), signal_id=f"b{i}"
        )
        begin = time.perf_counter()
        order = oms.submit(request)
        times.append(time.perf_counter() - begin)
        assert order.state is OrderState.ACCEPTED, order.reason
    return times


def floor_round_trip(db, account_id: uuid.UUID, orders: int) -> list[float]:  # type: ignore[no-untyped-def]
    """Two commits per order, written by hand: the least a persist-then-send OMS does."""
    times = []
    for i in range(orders):
        begin = time.perf_counter()
        order_id = uuid.uuid4()
        with transaction(db) as session:
            session.execute(
                insert(LedgerOrder).values(
                    id=order_id,
                    account_id=account_id,
                    client_order_id=f"floor-{uuid.uuid4().hex}",
                    symbol=SYMBOLS[i % 100],
                    side=1,
                    order_type=LedgerOrderType.MARKET,
                    time_in_force=LedgerTimeInForce.DAY,
                    quantity=Decimal(1),
                    state=OrderState.NEW,
                    filled_quantity=Decimal(0),
                )
            )
        with transaction(db) as session:
            session.execute(
                update(LedgerOrder)
                .where(LedgerOrder.id == order_id)
                .values(state=OrderState.ACCEPTED, submitted_at=utcnow())
            )
        times.append(time.perf_counter() - begin)
    return times


def runner_pace(home: Path, per_symbol: int) -> tuple[int, float]:
    settings, engine, db = _sessions(home, None)
    owner, account = _account(db, settings, 10**7)
    config = BacktestConfig(sizing="decision")
    run = start_run(db, owner.id, account, "sma_cross", {"fast": 5, "slow": 20}, SYMBOLS, "1m",
                    config.describe())  # fmt: skip
    runner = account_runner(db, settings, run, SmaCross, SmaCross.parse_params(run.params), config)
    runner.start()
    bars = minute_bars(len(SYMBOLS), per_symbol).with_columns()
    begin = time.perf_counter()
    for minute in range(per_symbol):  # one bus delivery per minute of bars, as live
        runner.on_bars(bars.slice(minute * len(SYMBOLS), len(SYMBOLS)))
    seconds = time.perf_counter() - begin
    engine.dispose()
    return runner.stats.bars, seconds


@contextmanager
def scratch(admin: str | None) -> Iterator[str | None]:
    """A fresh PostgreSQL database on the server of ``admin`` (None: SQLite)."""
    if admin is None:
        yield None
        return
    name = f"bench_{uuid.uuid4().hex[:10]}"
    server = create_engine(admin, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


def _row(name: str, times: list[float]) -> list[str]:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return [
        name,
        f"{statistics.median(times) * 1e3:.2f} ms",
        f"{p99 * 1e3:.2f} ms",
        f"{len(times) / sum(times):,.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2_000)
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="An admin URL: a scratch database is made there and dropped after.",
    )
    parser.add_argument("--minutes", type=int, default=60)
    args = parser.parse_args()
    rows = []
    for name, admin in (("SQLite", None), ("PostgreSQL", args.postgres)):
        with tempfile.TemporaryDirectory() as tmp, scratch(admin) as url:
            settings, engine, db = _sessions(Path(tmp), url)
            _, account = _account(db, settings)
            oms = oms_round_trip(db, account.id, args.orders)
            floor = floor_round_trip(db, account.id, args.orders)
            engine.dispose()
        rows.append(_row(f"CIFT OMS + paper broker, {name}", oms))
        rows.append(_row(f"two hand-written commits, {name}", floor))
    print(machine())
    print(
        table("Order submit -> accepted, one at a time", ["path", "p50", "p99", "orders/s"], rows)
    )
    with tempfile.TemporaryDirectory() as tmp:
        bars, seconds = runner_pace(Path(tmp), args.minutes)
    print(table(
        "Live runner, 100 symbols of minute bars, sma_cross on the paper broker (SQLite)",
        ["bars", "seconds", "bars/s", "needed at 100x"],
        [[f"{bars:,}", f"{seconds:.2f}", f"{bars / seconds:,.0f}", "167"]],
    ))  # fmt: skip


if __name__ == "__main__":
    main()
