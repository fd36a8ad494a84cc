"""The parity report: a live run replayed through the backtest engine, order by order.

The bars the run traded on (read back from the store, with the bars that warmed its
features up) go through :func:`~cift.backtest.engine.run_backtest` with the run's own
strategy, parameters and venue settings (target-percent orders sized when decided, as
live: ``sizing="decision"``); the strategy decides only from each symbol's
first live bar on, as it did live. Each decision is keyed by (symbol, bar, order number):
the live order's signal id carries it, the backtest order's creation time gives it.

Every difference gets a cause. Explained causes:

- ``rejected_by_risk``: the live order was refused by a pre-trade limit or the kill switch.
- ``partial_fill`` / ``latency``: the live fill was smaller, or later, than the backtest's.
- ``follows``: any difference after an earlier explained one: the account's cash, which
  every symbol trades on, is no longer the same on both sides.
- ``outside_run``: a bar the live run did not trade (before its first, after its last).

Anything else is ``unexplained``; on the paper broker there should be none.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.backtest.config import BacktestConfig
from cift.backtest.engine import BacktestResult, run_backtest
from cift.backtest.events import bar_close_times
from cift.core.settings import Settings
from cift.core.timeutil import from_ns
from cift.data.store.base import MarketStore
from cift.db.models.ledger import LedgerFill, LedgerOrder, OrderState, TradingRun
from cift.execution.runs import trading_runs
from cift.model import DataKind, Timeframe
from cift.strategy.base import Strategy
from cift.strategy.context import BarView
from cift.strategy.registry import get_strategy

PRICE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Side:
    """One side's order for a decision: what was asked and what filled."""

    side: int
    quantity: float
    filled: float
    price: float | None
    filled_at: int | None
    state: str
    reason: str = ""


@dataclass(frozen=True)
class Difference:
    symbol: str
    bar: str
    sequence: int
    what: str
    cause: str
    live: Side | None
    backtest: Side | None

    @property
    def explained(self) -> bool:
        return self.cause != "unexplained"


@dataclass
class ParityReport:
    run_id: str
    strategy: str
    symbols: list[str]
    bars: int
    live_orders: int
    backtest_orders: int
    matched: int
    live_pnl: float
    backtest_pnl: float
    differences: list[Difference] = field(default_factory=list)

    @property
    def unexplained(self) -> int:
        return sum(not d.explained for d in self.differences)

    def causes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for difference in self.differences:
            counts[difference.cause] = counts.get(difference.cause, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["unexplained"] = self.unexplained
        data["causes"] = self.causes()
        return data


Key = tuple[str, int, int]


def parity(
    db: sessionmaker[Session],
    settings: Settings,
    store: MarketStore,
    owner: uuid.UUID,
    run_id: uuid.UUID,
) -> ParityReport:
    """Replay run ``run_id`` through the backtest engine and compare, decision by decision."""
    run = trading_runs(db).get(run_id, owner)
    timeframe = Timeframe.parse(run.timeframe)
    first = {s: int(v) for s, v in run.checkpoint.get("first", {}).items()}
    done = {s: int(v) for s, v in run.checkpoint.get("done", {}).items()}
    origin = {s: int(v) for s, v in run.checkpoint.get("origin", {}).items()}
    bars = _bars(store, run, timeframe, origin, done)
    cls = get_strategy(run.strategy)
    result = run_backtest(
        _from_first_live_bar(cls, first),
        bars=bars,
        timeframe=timeframe,
        params=cls.parse_params(dict(run.params)),
        config=BacktestConfig.from_description(dict(run.config)),
        settings=settings,
    )
    live = _live_orders(db, run)
    replay = _backtest_orders(result, _bar_opens(bars, timeframe, result.config.calendar))
    differences, matched = _compare(live, replay, first, done)
    return ParityReport(
        run_id=str(run.id),
        strategy=run.strategy,
        symbols=list(run.symbols),
        bars=bars.height,
        live_orders=len(live),
        backtest_orders=len(replay),
        matched=matched,
        live_pnl=_live_pnl(db, run, bars),
        backtest_pnl=result.final_equity - result.config.initial_cash,
        differences=differences,
    )


def _bars(
    store: MarketStore,
    run: TradingRun,
    timeframe: Timeframe,
    origin: dict[str, int],
    done: dict[str, int],
) -> pl.DataFrame:
    """The bars the run saw: from the first its features were given (warm-up included)
    to each symbol's last live bar."""
    if not done:
        return pl.DataFrame()
    end = from_ns(max(done.values()) + timeframe.nanos)  # exclusive: the next bar's open
    read = store.read(DataKind.BARS, symbols=list(run.symbols), timeframe=timeframe, end=end)
    last = pl.DataFrame({"symbol": list(done), "_done": list(done.values())})
    ts = pl.col("ts").dt.epoch("ns")
    start = pl.col("symbol").replace_strict(origin, default=None, return_dtype=pl.Int64)
    return (
        read.collect()
        .join(last, on="symbol")
        .filter((ts <= pl.col("_done")) & (start.is_null() | (ts >= start)))
        .drop("_done")
    )


def _from_first_live_bar(cls: type[Strategy], first: dict[str, int]) -> type[Strategy]:
    """``cls`` deciding only from each symbol's first live bar (earlier bars warm it up)."""

    def on_bar(self: Strategy, bar: BarView) -> None:
        if bar.ts_ns >= first.get(bar.symbol, math.inf):
            cls.on_bar(self, bar)

    replay: type[Strategy] = type(f"Replay{cls.__name__}", (cls,), {"on_bar": on_bar})
    return replay


def _live_orders(db: sessionmaker[Session], run: TradingRun) -> dict[Key, Side]:
    with db() as session:
        orders = list(session.scalars(select(LedgerOrder).where(LedgerOrder.run_id == run.id)))
        fills = list(
            session.scalars(
                select(LedgerFill).where(LedgerFill.order_id.in_([o.id for o in orders]))
            )
        )
    first_fill: dict[uuid.UUID, datetime] = {}
    for fill in fills:
        seen = first_fill.get(fill.order_id)
        first_fill[fill.order_id] = fill.filled_at if seen is None else min(seen, fill.filled_at)
    sides: dict[Key, Side] = {}
    for order in orders:
        key = _signal_key(order.signal_id or "")
        if key is None:
            continue
        at = first_fill.get(order.id)
        sides[key] = Side(
            side=order.side,
            quantity=float(order.quantity),
            filled=float(order.filled_quantity),
            price=float(order.average_price) if order.average_price is not None else None,
            filled_at=None if at is None else int(at.timestamp() * 1e9),
            state=order.state.value,
            reason=(order.reason or "").split(":")[0] if order.state is OrderState.REJECTED else "",
        )
    return sides


def _signal_key(signal: str) -> Key | None:
    """``AAA@1709303400000000000#1`` -> (AAA, 1709303400000000000, 1)."""
    symbol, at, rest = signal.partition("@")
    ts, hash_, sequence = rest.partition("#")
    if not at or not hash_ or not ts.isdigit() or not sequence.isdigit():
        return None
    return symbol, int(ts), int(sequence)


def _bar_opens(
    bars: pl.DataFrame, timeframe: Timeframe, calendar: str | None
) -> dict[tuple[str, int], int]:
    """Each bar's open time by its symbol and close time (the time its orders are made)."""
    if not bars.height:
        return {}
    opened = bars.get_column("ts").dt.epoch("ns").to_numpy()
    closes = bar_close_times(opened, timeframe, calendar)
    keys = zip(bars.get_column("symbol").to_list(), closes.tolist(), strict=True)
    return dict(zip(keys, opened.tolist(), strict=True))


def _backtest_orders(result: BacktestResult, opens: dict[tuple[str, int], int]) -> dict[Key, Side]:
    fills = result.fills.group_by("order_id").agg(pl.col("ts").min().dt.epoch("ns").alias("at"))
    orders = (
        result.orders.with_columns(pl.col("created").dt.epoch("ns").alias("created_ns"))
        .join(fills, left_on="id", right_on="order_id", how="left")
        .sort("id")
    )
    sides: dict[Key, Side] = {}
    counts: dict[tuple[str, int], int] = {}
    for row in orders.iter_rows(named=True):
        decided = opens[(row["symbol"], row["created_ns"])]
        if row["status"] == "filled" and row["filled"] == 0:
            continue  # "already at target": live sends nothing either
        number = counts[(row["symbol"], decided)] = counts.get((row["symbol"], decided), 0) + 1
        sides[(row["symbol"], decided, number)] = Side(
            side=int(row["side"]),
            quantity=float(row["quantity"]),
            filled=float(row["filled"]),
            price=float(row["average_price"]) if row["filled"] else None,
            filled_at=row["at"],
            state=row["status"],
            reason=row["reason"] or "",
        )
    return sides


def _compare(
    live: dict[Key, Side],
    replay: dict[Key, Side],
    first: dict[str, int],
    done: dict[str, int],
) -> tuple[list[Difference], int]:
    differences: list[Difference] = []
    diverged = False  # one account: a different fill moves the cash every symbol trades on
    matched = 0
    for key in sorted(set(live) | set(replay), key=lambda k: (k[1], k[0], k[2])):
        symbol, ts, number = key
        ours, theirs = live.get(key), replay.get(key)
        cause, what = _cause(ours, theirs, diverged, ts, first.get(symbol), done.get(symbol))
        if cause is None:
            matched += ours is not None and theirs is not None
            continue
        diverged = diverged or cause != "outside_run"
        bar = from_ns(ts).isoformat()
        differences.append(Difference(symbol, bar, number, what, cause, ours, theirs))
    return differences, matched


def _cause(
    ours: Side | None,
    theirs: Side | None,
    diverged: bool,
    ts: int,
    first: int | None,
    last: int | None,
) -> tuple[str | None, str]:
    """Why the two sides of one decision differ (None: they do not), and how."""
    if ours is None or theirs is None:
        present = ours or theirs
        if present is not None and not present.filled:
            return None, ""  # an order that never filled changed nothing
        what = "only in the backtest" if ours is None else "only live"
        if first is None or last is None or not first <= ts <= last:
            return "outside_run", what
        return ("follows" if diverged else "unexplained"), what
    return _pair(ours, theirs, diverged)


def _pair(ours: Side, theirs: Side, diverged: bool) -> tuple[str | None, str]:
    """The first way two orders of one decision differ, in the order that explains most."""
    late = ours.filled_at is not None and (theirs.filled_at or 0) < ours.filled_at
    checks = (
        (
            ours.state == "rejected" and theirs.filled > 0,
            "rejected_by_risk",
            "refused live, filled in the backtest",
        ),
        (ours.side != theirs.side, "follows" if diverged else "unexplained", "opposite sides"),
        (not ours.filled and not theirs.filled, None, ""),
        (
            ours.filled_at != theirs.filled_at,
            "latency" if late else "unexplained",
            "filled at another time",
        ),
        (not _same(ours.price, theirs.price), "unexplained", "filled at another price"),
        (ours.filled < theirs.filled, "partial_fill", "partly filled live"),
        (
            not _same(ours.filled, theirs.filled),
            "unexplained",
            f"{ours.filled:g} filled live, {theirs.filled:g} in the backtest",
        ),
    )
    return next(((cause, what) for hit, cause, what in checks if hit), (None, ""))


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= PRICE_TOLERANCE * max(abs(a), abs(b), 1.0)


def _live_pnl(db: sessionmaker[Session], run: TradingRun, bars: pl.DataFrame) -> float:
    """The run's P&L: its fills' cash flows plus what they hold at the last close."""
    with db() as session:
        rows = session.execute(
            select(
                LedgerFill.symbol,
                LedgerFill.side,
                LedgerFill.quantity,
                LedgerFill.price,
                LedgerFill.commission,
            )
            .join(LedgerOrder, LedgerFill.order_id == LedgerOrder.id)
            .where(LedgerOrder.run_id == run.id)
        ).all()
    last = (
        dict(bars.sort("ts").group_by("symbol").agg(pl.col("close").last()).iter_rows())
        if bars.height
        else {}
    )
    pnl, held = 0.0, dict[str, float]()
    for symbol, side, quantity, price, commission in rows:
        pnl -= side * float(quantity) * float(price) + float(commission)
        held[symbol] = held.get(symbol, 0.0) + side * float(quantity)
    return pnl + sum(q * float(last.get(s, math.nan)) for s, q in held.items() if q)
