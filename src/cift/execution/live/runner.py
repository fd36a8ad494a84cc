"""The live runner: the backtest's Strategy class trading an account on live bars.

Each bar goes through the same steps as in the backtest engine: the broker matches the
working orders against it (the paper broker with the backtest's own venue), the fills
are booked, then the strategy sees the bar and decides. A bar is processed once: each
symbol's newest processed bar is checkpointed in the run's record as soon as it is
processed, and a bar at or before it (history read to warm the features up, or the
feed replaying what it sent before a crash) only moves the features and the history,
never the strategy; no bar reaches the features twice in one process, and a restart
warms them up from the run's very first bar, so their floating-point sums (and so the
ties a strategy breaks on them) are the same as if it had never stopped.

After a restart the OMS first reconciles with the broker (orders it never received are
sent again under their client ids); bars the strategy already saw are skipped, so
nothing it decided is decided twice.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from decimal import Decimal

import polars as pl
from loguru import logger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.audit.chain import Actor
from cift.backtest.config import BacktestConfig
from cift.core.calendars import BarCloser
from cift.core.settings import Settings
from cift.db.engine import transaction
from cift.db.models import TradingAccount
from cift.db.models.ledger import LedgerOrder, LedgerPosition, TradingRun
from cift.execution import halts
from cift.execution.brokers.base import Broker
from cift.execution.brokers.paper import PaperBroker, decimal
from cift.execution.ledger import OPEN_STATES
from cift.execution.live.aligned import TimeAligner
from cift.execution.live.context import Book, LiveContext
from cift.execution.metrics import TradingMetrics
from cift.execution.oms import OrderManager
from cift.execution.reconcile import AccountView, reconcile
from cift.execution.recovery import recover
from cift.model import Timeframe
from cift.strategy.base import Strategy, StrategyParams
from cift.strategy.context import BarValues

PUMP_SECONDS = 1.0
"""How often the runner sends what other processes queued on its account."""
RECONCILE_SECONDS = 60.0
"""How often the runner reconciles with a broker that keeps the account (and at once
after its news stream reconnects)."""
STOP_SECONDS = 10.0
"""How long a stop waits for the broker to confirm the cancels of the open orders."""
BAR_COLUMNS = ("symbol", "ts", "open", "high", "low", "close", "volume")
RECONCILER = Actor(None, "reconciler")


@dataclass
class RunnerStats:
    """What the runner has done in this process."""

    bars: int = 0
    skipped: int = 0


class LiveRunner:
    """One strategy, one account, one broker."""

    def __init__(
        self,
        db: sessionmaker[Session],
        settings: Settings,
        run: TradingRun,
        strategy_cls: type[Strategy],
        params: StrategyParams,
        broker: Broker,
        config: BacktestConfig,
        metrics: TradingMetrics | None = None,
    ) -> None:
        self.db = db
        self.run_id = run.id
        self.account_id = run.account_id
        self.symbols = list(run.symbols)
        self.timeframe = Timeframe.parse(run.timeframe)
        self.broker = broker
        self.metrics = metrics
        self.initial_cash = float(run.config.get("initial_cash", 0.0))
        self.oms = OrderManager(db, run.account_id, broker, run_id=run.id, metrics=metrics)
        self.done: dict[str, int] = {s: int(v) for s, v in run.checkpoint.get("done", {}).items()}
        """Per symbol, the open time (ns) of the newest bar the strategy has seen."""
        self.first: dict[str, int] = {s: int(v) for s, v in run.checkpoint.get("first", {}).items()}
        """Per symbol, the open time (ns) of the first bar the strategy saw."""
        self.origin: dict[str, int] = {
            s: int(v) for s, v in run.checkpoint.get("origin", {}).items()
        }
        """Per symbol, the first bar the features were ever given (warm-up included): a
        restart warms them up from it again, so they stay bit for bit the same."""
        self.fed: dict[str, int] = {}
        """Per symbol, the newest bar this process gave the features: each bar once."""
        self.venue = broker if isinstance(broker, PaperBroker) else None
        self.view = broker if isinstance(broker, AccountView) else None
        """A broker to reconcile with (its account is the truth); the paper venue is not."""
        self._reconciled = time.monotonic()
        """The simulated venue the bars are fed to; a real broker fills on its own."""
        self.ctx = LiveContext(settings, self.oms, config)
        self.close_of = BarCloser(self.timeframe.nanos, config.calendar)
        """When a bar closes: as in the backtest, on the run's exchange calendar if any."""
        if self.venue is not None:
            venue = self.venue
            self.ctx.traded = lambda: venue.portfolio.traded_volume
        self.strategy = strategy_cls(self.ctx, params)
        overridden = strategy_cls.derived is not Strategy.derived
        self.ctx.declare(self.strategy.features(), self.strategy.derived if overridden else None)
        self._bars_before = run.bars_seen
        self.stats = RunnerStats()
        self.aligner = TimeAligner(self.symbols)
        self._pumped = 0.0
        self._timed = strategy_cls.on_time is not Strategy.on_time
        self._bar = BarValues()

    def start(self) -> None:
        """Reconcile with the broker and the ledger, then let the strategy begin."""
        recovery = recover(self.oms)
        if recovery.resent or recovery.reconciled:
            logger.info(
                "run {}: {} orders sent again, {} reconciled, {} fills booked",
                self.run_id,
                len(recovery.resent),
                len(recovery.reconciled),
                recovery.fills_booked,
            )
        self.oms.process()
        self.reconcile()
        with self.db() as session:
            self.ctx.adopt(
                list(
                    session.scalars(
                        select(LedgerOrder).where(
                            LedgerOrder.run_id == self.run_id, LedgerOrder.state.in_(OPEN_STATES)
                        )
                    )
                )
            )
        self.sync()
        self.strategy.on_start()

    def stop(self, *, cancel_open: bool) -> None:
        """Process the bars still held, cancel the run's open orders (or keep them
        working), then stop the strategy."""
        self.process(self.aligner.flush())
        if cancel_open:
            self.oms.cancel_all()
            deadline = time.monotonic() + STOP_SECONDS
            while True:  # a real broker confirms cancels on its own time
                self.oms.process()
                self.sync()
                if not self.ctx.open_clients() or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        self.strategy.on_stop()
        self.broker.close()

    def on_bars(self, bars: pl.DataFrame) -> int:
        """Take live bars as they come (any symbols, any order between symbols) and
        process them in time order; how many reached the strategy."""
        return self.process(self.aligner.add(bars))

    def process(self, bars: pl.DataFrame) -> int:
        """Process closed bars in time order; how many reached the strategy."""
        if bars.is_empty():
            return 0
        ordered = bars.select(BAR_COLUMNS).sort("ts", "symbol")
        ts_ns = ordered.get_column("ts").dt.epoch("ns").to_list()
        reached = 0
        for (symbol, _, *ohlcv), ts in zip(ordered.iter_rows(), ts_ns, strict=True):
            if ts <= self.fed.get(symbol, -1):
                self.stats.skipped += 1  # this process has it already
                continue
            self.fed[symbol] = ts
            self.origin.setdefault(symbol, ts)
            if ts <= self.done.get(symbol, -1):
                self._warm(symbol, ts, tuple(ohlcv))
                continue
            self._trade(symbol, ts, tuple(ohlcv))
            self._checkpoint()  # per bar: a crash replays at most the bar it was on
            reached += 1
        return reached

    def _warm(self, symbol: str, ts: int, ohlcv: tuple[float, ...]) -> None:
        """A bar seen before: features and history only."""
        self.ctx.advance(symbol, ts, self.close_of(ts), ohlcv)

    def idle(self) -> None:
        """Between bars: send what was queued and book what the broker said (a real
        broker's fills arrive on their own time)."""
        self._pump()
        if self.venue is None and self.oms.process():
            self.sync()

    def reconcile(self) -> None:
        """Reconcile with the broker now (after a start or a reconnect, and periodically)."""
        if self.view is None:
            return
        self._reconciled = time.monotonic()
        found = reconcile(self.oms, self.view, RECONCILER)
        if self.metrics is not None:
            self.metrics.reconciliations.inc()
            for kind, count in found.counts().items():
                if count:
                    self.metrics.reconciliation_differences.labels(kind).inc(count)
        if not found.clean:
            self.sync()

    def _pump(self) -> None:
        if self.view is not None and (
            self.view.reconnected() or time.monotonic() - self._reconciled >= RECONCILE_SECONDS
        ):
            self.reconcile()
        if time.monotonic() - self._pumped >= PUMP_SECONDS:
            self._pumped = time.monotonic()
            if self.oms.pump():  # orders and cancels placed through the API or the CLI
                self.sync()

    def _trade(self, symbol: str, ts: int, ohlcv: tuple[float, ...]) -> None:
        self._pump()
        close_ns = self.close_of(ts)
        o, h, low, c, v = ohlcv
        if self.venue is not None:
            self.venue.on_bar(symbol, ts, close_ns, (o, h, low, c, v))
        if self.oms.process():
            self.sync()
        self.oms.marks[symbol] = decimal(c)
        self.ctx.advance(symbol, ts, close_ns, ohlcv)
        bar = self._bar
        bar.symbol, bar.ts_ns, bar.open, bar.high, bar.low, bar.close, bar.volume = (
            symbol,
            ts,
            o,
            h,
            low,
            c,
            v,
        )
        self.strategy.on_bar(bar)
        if self._timed:
            self.strategy.on_time(close_ns)
        self.done[symbol] = ts
        self.first.setdefault(symbol, ts)
        self.stats.bars += 1

    def sync(self) -> None:
        """Read the account and the run's orders from the ledger into the context, and
        tell the strategy about orders that changed."""
        with self.db() as session:
            account = session.get(TradingAccount, self.account_id)
            assert account is not None
            positions = {
                row.symbol: float(row.quantity)
                for row in session.scalars(
                    select(LedgerPosition).where(LedgerPosition.account_id == self.account_id)
                )
            }
            tracked = self.ctx.open_clients()
            orders = list(
                session.scalars(select(LedgerOrder).where(LedgerOrder.client_order_id.in_(tracked)))
            )
            halted = halts.active(session, self.account_id) is not None
        for order in self.ctx.refresh(Book(float(account.cash), positions), orders):
            self.strategy.on_order(order)
        if halted and not self.oms.halted:
            self.oms.halted = True
            logger.warning("run {}: trading is halted; canceling its open orders", self.run_id)
            self.oms.cancel_all()
        self._report()

    def _report(self) -> None:
        """Open orders, position values, equity and P&L to the metrics."""
        if self.metrics is None:
            return
        ctx = self.ctx
        self.metrics.open_orders.set(len(ctx.open_clients()))
        for symbol, quantity in ctx.book.positions.items():
            self.metrics.position_value.labels(symbol).set(quantity * ctx.marks.get(symbol, 0.0))
        self.metrics.equity.set(ctx.equity)
        self.metrics.pnl.set(ctx.equity - self.initial_cash)
        self.metrics.kill_switch.set(1 if self.oms.halted else 0)

    def _checkpoint(self) -> None:
        with transaction(self.db) as session:
            run = session.get(TradingRun, self.run_id)
            assert run is not None
            run.checkpoint = {
                "origin": dict(self.origin),
                "first": dict(self.first),
                "done": dict(self.done),
            }
            run.bars_seen = self._bars_before + self.stats.bars
            held = session.scalars(
                select(LedgerPosition).where(
                    LedgerPosition.account_id == self.account_id,
                    LedgerPosition.symbol.in_(list(self.ctx.marks)),
                )
            )
            for position in held:  # marks for the P&L the ledger reports
                position.last_price = decimal(self.ctx.marks[position.symbol])


def positions_of(db: sessionmaker[Session], account_id: uuid.UUID) -> dict[str, float]:
    """The account's positions as floats (to start a paper venue from the ledger)."""
    with db() as session:
        return {
            row.symbol: float(row.quantity)
            for row in session.scalars(
                select(LedgerPosition).where(LedgerPosition.account_id == account_id)
            )
            if row.quantity
        }


def cash_of(db: sessionmaker[Session], account_id: uuid.UUID) -> Decimal:
    with db() as session:
        account = session.get(TradingAccount, account_id)
        assert account is not None
        return account.cash
