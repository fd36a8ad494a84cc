"""``cift trade``: run a strategy on live data through the OMS and a broker, and read the
ledger (orders with their fills, positions, runs); the kill switch.

The simulator and the backtest engine (with numba) load only in ``run`` and ``parity``,
so the kill switch and the ledger's listings start without them."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl
import typer
from rich.live import Live
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from cift.backtest.config import BacktestConfig
from cift.core.errors import NotFoundError, ValidationError
from cift.core.timeutil import from_ns, parse_when
from cift.data.bus import open_bus
from cift.data.providers.live import get_feed
from cift.data.stream.board import open_board
from cift.db.engine import transaction
from cift.db.models import BrokerKind, TradingAccount
from cift.db.models.ledger import RunState
from cift.execution import halts
from cift.execution.accounts import AccountSpec, accounts, open_account
from cift.execution.alert_stage import alert_checks
from cift.execution.brokers.alpaca.factories import create_broker
from cift.execution.live.session import account_runner, prepare, trade
from cift.execution.metrics import TradingMetrics
from cift.execution.oms import OrderManager
from cift.execution.reconcile import Reconciliation, reconcile
from cift.execution.reports import run_row
from cift.execution.runs import (
    account_named,
    finish_run,
    resume_run,
    run_lineage,
    start_run,
    trading_runs,
)
from cift.features.pipeline import default_set
from cift.model import Timeframe
from cift.strategy.registry import get_strategy

from . import trade_accounts, trade_orders
from .backtest_options import CALENDAR_HELP, PARAM_HELP, STRATEGY_HELP, costs, parse_params
from .console import console, print_json
from .context import (
    MetricsPortOption,
    cli_actor,
    market_store,
    metadata_db,
    owner_id,
    serve_metrics,
    split_symbols,
)
from .entries import summary
from .live import (
    BUS_HELP,
    PROVIDER_HELP,
    SPEED_HELP,
    STORE_HELP,
    AlertsOption,
    feed_options,
    live_settings,
    seconds_of,
    stop_after,
    stop_on_signals,
)
from .render import frame_table
from .stream_view import Reporter, stats_table
from .trade_orders import ACCOUNT, JSON, OWNER, parse_run_id

app = typer.Typer(help=summary("trade"))

app.command("open")(trade_accounts.open_command)
app.command("accounts")(trade_accounts.accounts_command)
app.command("orders")(trade_orders.orders_command)
app.command("order")(trade_orders.order_command)
app.command("replace")(trade_orders.replace_command)
app.command("cancel")(trade_orders.cancel_command)
app.command("fills")(trade_orders.fills_command)
app.command("positions")(trade_orders.positions_command)


def _account(db: sessionmaker[Session], owner: uuid.UUID, name: str, cash: float) -> TradingAccount:
    """The owner's account ``name``; a paper account with ``cash`` is opened if none is."""
    try:
        return account_named(db, owner, name)
    except NotFoundError:
        spec = AccountSpec(name=name, initial_cash=Decimal(repr(cash)))
        account = open_account(db, owner, spec)
        console.print(f"Opened paper account {name} with {cash:,.2f} {account.base_currency}.")
        return account


@app.command("run")
def run_command(
    account: str | None = typer.Option(
        None, "--account", help="The paper account to trade (opened if new)."
    ),
    strategy: str | None = typer.Option(None, help=STRATEGY_HELP),
    symbols: str | None = typer.Option(None, help="Comma-separated symbols, e.g. AAA,BBB."),
    param: list[str] | None = typer.Option(None, "--param", help=PARAM_HELP),
    timeframe: str = typer.Option("1m", help="Bar length the strategy trades on."),
    duration: str | None = typer.Option(None, help="Stop after this long (e.g. 60s, 5m)."),
    provider: str = typer.Option("synthetic", help=PROVIDER_HELP),
    speed: float | None = typer.Option(None, min=0, help=SPEED_HELP),
    start: str | None = typer.Option(None, help="Synthetic: first simulated time."),
    cash: float = typer.Option(100_000.0, min=1, help="Starting cash of a new paper account."),
    commission_bps: float = typer.Option(0.0, min=0, help="Paper commission, basis points."),
    fractional: bool = typer.Option(False, help="Trade fractional shares."),
    calendar: str | None = typer.Option(None, help=CALENDAR_HELP),
    resume: str | None = typer.Option(None, help="Carry on a stopped run (its id)."),
    cancel_open: bool = typer.Option(
        True, "--cancel-open/--keep-open", help="On stop: cancel the run's open orders or not."
    ),
    alerts: bool = AlertsOption,
    bus: str | None = typer.Option(None, "--bus", help=BUS_HELP),
    store: str | None = typer.Option(None, "--store", help=STORE_HELP),
    metrics_port: int = MetricsPortOption,
    user: str = OWNER,
) -> None:
    """Trade STRATEGY on live bars through the OMS, the risk checks and the account's
    broker (the paper venue; Alpaca for an account opened with broker alpaca).

      cift trade run --account paper-1 --strategy sma_cross --symbols AAA,BBB \\
        --duration 60s --speed 60

    The same Strategy class as in backtests decides on each closed bar; orders are kept
    in the ledger before they are sent. Ctrl-C (or --duration) stops it cleanly; run it
    again with --resume RUN_ID to carry on without sending anything twice.
    """
    settings = live_settings(bus, store)
    limit = seconds_of(duration)
    with metadata_db() as (_, db):
        owner = owner_id(db, user)
        if resume is not None:
            run_id = parse_run_id(resume)
            chosen = accounts(db).get(trading_runs(db).get(run_id, owner).account_id, owner)
            if account is not None and account not in (chosen.name, str(chosen.id)):
                raise ValidationError(f"Run {run_id} trades account {chosen.name}, not {account}.")
            run = resume_run(db, owner, run_id)
        else:
            if strategy is None or symbols is None or account is None:
                raise ValidationError(
                    "Name --account, --strategy and --symbols (or --resume RUN_ID)."
                )
            chosen = _account(db, owner, account, cash)
            cls = get_strategy(strategy)
            params = cls.resolve(cls.parse_params(parse_params(param)).model_dump(), settings)
            config = BacktestConfig.from_description(
                costs(float(chosen.cash), commission_bps, 0.0)
                | {"fractional": fractional, "sizing": "decision", "calendar": calendar}
            )
            wanted = split_symbols(symbols)
            timeframe_text = str(Timeframe.parse(timeframe))
            run = start_run(
                db,
                owner,
                chosen,
                cls.name,
                params,
                wanted,
                timeframe_text,
                config.describe(),
                run_lineage(settings, params),
            )
        cls = get_strategy(run.strategy)
        typed = cls.parse_params(dict(run.params))
        config = BacktestConfig.from_description(dict(run.config))
        bars = Timeframe.parse(run.timeframe)
        metrics = TradingMetrics()
        serve_metrics(settings, metrics_port)
        runner = account_runner(db, settings, run, cls, typed, config, metrics)
        stop = stop_on_signals()
        board = open_board(settings)
        reporter = Reporter(board, "trade")
        console.print(f"Run {run.id}: {cls.name} on {', '.join(run.symbols)} ({chosen.name}).")
        state, error = RunState.STOPPED, None
        try:
            with market_store(settings) as market, Live(console=console) as live:
                begin = prepare(runner, market, _first_time(provider, start))
                feed = get_feed(provider, settings, **_feed_options(provider, speed, begin))
                stop_after(stop, limit)  # the time asked for is time trading
                stats = trade(
                    runner,
                    bus=open_bus(settings),
                    board=board,
                    feed=feed,
                    store=market,
                    feature_set=default_set(bars),
                    stop=stop,
                    cancel_open=cancel_open,
                    on_progress=reporter.watching_all(live),
                    also=alert_checks(settings, db, market, board) if alerts else (),
                )
        except BaseException as exc:
            state, error = RunState.FAILED, str(exc)[:2000]
            raise
        finally:
            finish_run(db, run.id, state, error)
        console.print(stats_table(stats, title="stopped", seconds=reporter.seconds))
        _summary(db, owner, run.id)


def _first_time(provider: str, start: str | None) -> datetime:
    """Where a new run's feed starts: ``start``, the simulator's latest session open, or
    now for a real feed."""
    if start is not None:
        return parse_when(start)
    now = time.time_ns()
    if provider == "synthetic":
        from cift.data.providers.synthetic import SimulatorConfig, SyntheticProvider
        from cift.data.providers.synthetic.stream import latest_open

        return from_ns(latest_open(SyntheticProvider(SimulatorConfig.from_options({})), now))
    return from_ns(now)


def _feed_options(provider: str, speed: float | None, begin: datetime) -> dict[str, Any]:
    return feed_options(provider, speed, begin if provider == "synthetic" else None)


def _summary(db: sessionmaker[Session], owner: uuid.UUID, run_id: uuid.UUID) -> None:
    row = run_row(db, trading_runs(db).get(run_id, owner))
    console.print(
        f"Run {row['id']} {row['state']}: {row['bars_seen']:,} bars, {row['orders']} orders, "
        f"{row['fills']} fills. See 'cift trade orders --account {row['account']}'."
    )


@app.command("runs")
def runs_command(as_json: bool = JSON, user: str = OWNER) -> None:
    """Trading runs, newest first."""
    with metadata_db() as (_, db):
        rows = [run_row(db, run) for run in trading_runs(db).list(owner_id(db, user))]
        if as_json:
            print_json(rows)
            return
        console.print(frame_table(pl.DataFrame(rows), title="trading runs"))


@app.command("parity")
def parity_command(
    run: str = typer.Argument(..., help="The run's id (cift trade runs)."),
    as_json: bool = JSON,
    user: str = OWNER,
) -> None:
    """Replay a run through the backtest engine and list where the two differ, and why."""
    from cift.execution.parity import parity

    with metadata_db() as (settings, db), market_store(settings) as market:
        report = parity(db, settings, market, owner_id(db, user), parse_run_id(run))
    if as_json:
        print_json(report.to_dict())
        return
    table = Table(title=f"parity of run {report.run_id} ({report.strategy})")
    for column in ("bar", "symbol", "#", "difference", "cause"):
        table.add_column(column)
    for item in report.differences:
        style = "" if item.explained else "bold red"
        table.add_row(
            item.bar[:19], item.symbol, str(item.sequence), item.what, item.cause, style=style
        )
    console.print(table)
    causes = ", ".join(f"{n} {cause}" for cause, n in report.causes().items()) or "none"
    console.print(
        f"{report.bars:,} bars; {report.live_orders} live orders, {report.backtest_orders} in "
        f"the backtest, {report.matched} the same. Differences: {causes}. P&L live "
        f"{report.live_pnl:,.2f}, backtest {report.backtest_pnl:,.2f}."
    )
    if report.unexplained:
        console.print(f"[bold red]{report.unexplained} unexplained difference(s).[/]")
    else:
        console.print("[green]No unexplained difference.[/]")


@app.command("reconcile")
def reconcile_command(
    account: str = ACCOUNT,
    fix: bool = typer.Option(
        True, "--fix/--report", help="Set differing positions to the broker's, or only report."
    ),
    as_json: bool = JSON,
    user: str = OWNER,
) -> None:
    """Compare the account's orders, fills and positions with its broker's, book what the
    ledger missed, and (with --fix) set differing positions to the broker's, audited.

      cift trade reconcile --account alpaca-paper
    """
    with metadata_db() as (settings, db):
        chosen = account_named(db, owner_id(db, user), account)
        if chosen.broker is BrokerKind.PAPER:
            raise ValidationError(
                f"{chosen.name} is a paper account: its venue lives in its trading session "
                "(cift trade run), which reconciles with it when it starts."
            )
        broker = create_broker(settings, chosen, stream=False)
        try:
            found = reconcile(OrderManager(db, chosen.id, broker), broker, cli_actor(), fix=fix)
        finally:
            broker.close()
    if as_json:
        print_json(asdict(found) | {"clean": found.clean})
        return
    if found.clean:
        console.print(
            f"{chosen.name}: the ledger agrees with {chosen.broker.value}; nothing to fix."
        )
        return
    table = Table(title=f"{chosen.name} against {chosen.broker.value}")
    table.add_column("what")
    table.add_column("found")
    for label, value in _reconciled_rows(found):
        table.add_row(label, value)
    console.print(table)


def _reconciled_rows(found: Reconciliation) -> list[tuple[str, str]]:
    differences = ", ".join(f"{s}: {a} here, {b} there" for s, (a, b) in found.positions.items())
    return [
        ("open orders checked", str(found.orders_checked)),
        ("fills booked", str(found.fills_booked)),
        ("orders caught up", str(len(found.caught_up))),
        ("sent, unknown at the broker", ", ".join(found.not_at_broker) or "-"),
        ("at the broker, unknown here", ", ".join(found.unknown_orders) or "-"),
        ("positions that differed", differences or "-"),
        ("positions adjusted", ", ".join(found.adjusted) or "-"),
    ]


@app.command("halt")
def halt_command(
    account: str | None = typer.Option(None, "--account", help="The account (or --all)."),
    every: bool = typer.Option(False, "--all", help="Halt every account."),
    reason: str = typer.Option(..., help="Why: kept with the halt and in the audit log."),
    user: str = OWNER,
) -> None:
    """Engage the kill switch: new orders are refused; running traders cancel open ones."""
    with metadata_db() as (_, db):
        scope = _scope(db, owner_id(db, user), account, every)
        with transaction(db) as session:
            halts.engage(session, cli_actor(), scope, reason)
        console.print(f"Halted {'every account' if scope is None else account}.")


@app.command("reset")
def reset_command(
    account: str | None = typer.Option(None, "--account", help="The account (or --all)."),
    every: bool = typer.Option(False, "--all", help="Lift the halt on every account."),
    user: str = OWNER,
) -> None:
    """Lift the kill switch (the command line acts as an administrator)."""
    with metadata_db() as (_, db):
        scope = _scope(db, owner_id(db, user), account, every)
        with transaction(db) as session:
            lifted = halts.reset(session, cli_actor(), scope)
        console.print(f"Lifted {lifted} halt{'s' if lifted != 1 else ''}.")


def _scope(
    db: sessionmaker[Session], owner: uuid.UUID, account: str | None, every: bool
) -> uuid.UUID | None:
    if every == (account is not None):
        raise ValidationError("Name one --account, or --all for every account.")
    return None if every else account_named(db, owner, str(account)).id
