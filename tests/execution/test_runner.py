"""The live runner on bars: the backtest's strategy class trades through the OMS and the
paper broker, a restart decides nothing twice, and the parity replay agrees with it."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cift.backtest.config import BacktestConfig
from cift.backtest.costs import Bps
from cift.backtest.engine import run_backtest
from cift.core.settings import Settings
from cift.data.files import load
from cift.data.store import open_store
from cift.db.models import Role
from cift.db.models.ledger import LedgerFill, LedgerOrder, OrderState, TradingRun
from cift.execution.accounts import AccountSpec, open_account
from cift.execution.live.session import account_runner
from cift.execution.metrics import TradingMetrics
from cift.execution.parity import parity
from cift.execution.runs import start_run
from cift.model import DataKind, Timeframe
from cift.strategy.builtin.sma_cross import SmaCross
from tests.execution.ledgers import assert_consistent
from tests.features.reference import random_bars
from tests.security.conftest import make_user

Sessions = sessionmaker[Session]
PARAMS = {"fast": 3, "slow": 8}
CONFIG = BacktestConfig(commission=Bps(2), sizing="decision")
MINUTE = Timeframe.parse("1m")
DAILY = Path(__file__).resolve().parents[3] / "shared" / "data" / "daily"


def _bars() -> pl.DataFrame:
    return pl.concat(
        [random_bars(300, seed=1, symbol="AAA"), random_bars(300, seed=2, symbol="BBB")]
    )


def _run(db: Sessions, settings: Settings) -> TradingRun:
    owner = make_user(db, settings, "trader", Role.TRADER)
    account = open_account(db, owner.id, AccountSpec(name="paper-1", initial_cash=Decimal(100_000)))
    return start_run(
        db, owner.id, account, "sma_cross", PARAMS, ["AAA", "BBB"], "1m", CONFIG.describe()
    )


def _counted() -> tuple[float, float]:
    """Filled orders and broker answers so far, in this process's registry."""
    filled = REGISTRY.get_sample_value("cift_trading_orders_total", {"state": "filled"})
    answers = REGISTRY.get_sample_value("cift_trading_submit_to_ack_seconds_count")
    return filled or 0.0, answers or 0.0


def _reload(db: Sessions, run: TradingRun) -> TradingRun:
    with db() as session:
        row = session.get(TradingRun, run.id)
        assert row is not None
        return row


def test_the_runner_trades_like_the_backtest_and_a_restart_decides_nothing_twice(
    db: Sessions, settings: Settings
) -> None:
    run = _run(db, settings)
    store = open_store(settings)  # the bars as the live bars stage stores them
    store.write(DataKind.BARS, _bars(), timeframe=MINUTE)
    bars = store.read(DataKind.BARS, timeframe=MINUTE).collect()
    ordered = bars.sort("ts", "symbol")
    first, rest = ordered.head(300), ordered.slice(300)
    rest_count = rest.height

    metrics = TradingMetrics()
    counted_before = _counted()  # the registry is the process's: count what is new
    runner = account_runner(
        db, settings, run, SmaCross, SmaCross.parse_params(PARAMS), CONFIG, metrics
    )
    runner.start()
    assert runner.on_bars(first) == 300
    # the process dies here; a new one takes the same run and is handed every bar again
    again = account_runner(
        db, settings, _reload(db, run), SmaCross, SmaCross.parse_params(PARAMS), CONFIG, metrics
    )
    again.start()
    with db() as session:
        before = set(session.scalars(select(LedgerOrder.client_order_id)))
    assert again.on_bars(first) == 0  # seen: features only
    assert again.on_bars(first) == 0  # and never twice into the features
    assert again.stats.skipped == first.height
    with db() as session:
        assert set(session.scalars(select(LedgerOrder.client_order_id))) == before
    assert again.on_bars(rest) == rest_count
    again.stop(cancel_open=True)

    ledger = assert_consistent(db, run.account_id)
    assert ledger["orders"] > 20
    with db() as session:
        filled = session.scalars(
            select(func.count())
            .select_from(LedgerOrder)
            .where(LedgerOrder.state == OrderState.FILLED)
        ).one()
    counted = _counted()
    assert counted[0] - counted_before[0] == filled
    assert counted[1] - counted_before[1] == ledger["orders"] + 1  # one resent
    assert REGISTRY.get_sample_value("cift_trading_open_orders") == 0
    saved = _reload(db, run)
    assert saved.bars_seen == bars.height
    assert saved.checkpoint["done"] == {
        s: int(bars.filter(pl.col("symbol") == s)["ts"].dt.epoch("ns").max())
        for s in ("AAA", "BBB")
    }

    # the same strategy in the backtest engine, orders sized when decided: the same
    # decisions and fills
    report = parity(db, settings, store, saved.user_id, saved.id)
    store.close()
    assert report.differences == []
    assert report.matched == report.live_orders  # every live order, one for one
    # and, independently of the parity module, the live P&L is the engine's on the bars
    reference = run_backtest(
        SmaCross, bars=bars, timeframe=MINUTE, params=SmaCross.parse_params(PARAMS), config=CONFIG
    )
    assert report.bars == bars.height
    assert report.backtest_pnl == pytest.approx(reference.final_equity - 100_000, rel=1e-12)
    assert report.live_pnl == pytest.approx(reference.final_equity - 100_000, rel=1e-6)


def test_daily_bars_close_on_the_calendar_live_as_in_the_backtest(
    db: Sessions, settings: Settings
) -> None:
    """With latency, a decision at a daily bar's close (16:00 New York) fills at the next
    session's open, live as in the backtest; a close stamped at the next midnight
    instead would fill one bar late."""
    config = BacktestConfig(
        commission=Bps(2), sizing="decision", latency_ns=1_000_000, calendar="XNYS"
    )
    owner = make_user(db, settings, "trader", Role.TRADER)
    account = open_account(db, owner.id, AccountSpec(name="paper-1", initial_cash=Decimal(100_000)))
    run = start_run(db, owner.id, account, "sma_cross", PARAMS, ["NVDA"], "1d", config.describe())
    day = Timeframe.parse("1d")
    store = open_store(settings)
    store.write(DataKind.BARS, load(DAILY / "nvda-1999-2014.csv").frame.head(250), timeframe=day)
    bars = store.read(DataKind.BARS, timeframe=day).collect()
    runner = account_runner(
        db, settings, run, SmaCross, SmaCross.parse_params(PARAMS), config, TradingMetrics()
    )
    runner.start()
    assert runner.on_bars(bars) == 250
    runner.stop(cancel_open=True)

    reference = run_backtest(
        SmaCross, bars=bars, timeframe=day, params=SmaCross.parse_params(PARAMS), config=config
    )
    with db() as session:
        filled = sorted(
            session.scalars(select(LedgerFill.filled_at).where(LedgerFill.account_id == account.id))
        )
    expected = sorted(reference.fills["ts"].to_list())
    assert len(filled) == len(expected) > 10
    assert [t.replace(tzinfo=UTC) for t in filled] == expected  # each at a next open
    report = parity(db, settings, store, owner.id, run.id)
    store.close()
    assert report.differences == []
