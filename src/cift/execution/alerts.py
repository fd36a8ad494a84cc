"""Alert rules: a user's conditions on stored prices and on trading accounts, and
checking them.

A price rule fires when the newest stored price of its symbol (last trade, or last bar
close at the rule's timeframe) crosses its level; an account rule when the account's
P&L, drawdown, risk rejections or reconciliation differences do (see
:mod:`cift.execution.account_alerts`). A rule then waits ``cooldown_seconds`` and for a
newer observation before firing again. Firing logs a structured ``alert.fired`` event
at the rule's severity and counts it on the rule; its channels get it too
(:mod:`cift.execution.delivery`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, Self

import polars as pl
from loguru import logger
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.data.store import MarketStore
from cift.data.stream.board import Board, Values
from cift.db.base import utcnow
from cift.db.engine import transaction
from cift.db.models import Alert, AlertSeverity, AlertStatus
from cift.db.repositories.owned import OwnedRecords
from cift.execution.account_alerts import AccountCondition
from cift.execution.accounts import accounts
from cift.execution.delivery.channels import Channel
from cift.execution.stream_alerts import FeatureCondition, LagCondition, Latest, latest_features
from cift.model import DataKind, Timeframe
from cift.model.fields import Label, Symbol, TimeframeText

LOG_LEVELS = {
    AlertSeverity.INFO: "INFO",
    AlertSeverity.WARNING: "WARNING",
    AlertSeverity.CRITICAL: "CRITICAL",
}


class PriceCondition(BaseModel):
    """Fire when the price is at or above (or at or below) ``price``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["price_above", "price_below"]
    price: float = Field(gt=0, le=1e12, allow_inf_nan=False)
    source: Literal["trades", "bars"] = Field("bars", description="Last trade or last close.")
    timeframe: TimeframeText = Field("1m", description="Bars whose close is watched (source bars).")

    def describe(self) -> str:
        """``price above 150`` (what a person reads in a table or a log line)."""
        return f"{self.kind.replace('_', ' ')} {self.price:g}"

    def holds(self, price: float) -> bool:
        return price >= self.price if self.kind == "price_above" else price <= self.price


AnyCondition = PriceCondition | FeatureCondition | LagCondition | AccountCondition
Condition = Annotated[AnyCondition, Field(discriminator="kind")]
CONDITIONS: TypeAdapter[AnyCondition] = TypeAdapter(Condition)
ON_SYMBOLS = (PriceCondition, FeatureCondition)


class AlertSpec(BaseModel):
    """A new rule: on a symbol's price, or on a trading account (``trading_account_id``,
    one of yours: its P&L, drawdown, risk rejections, reconciliation differences)."""

    model_config = ConfigDict(extra="forbid")

    name: Label
    symbol: Symbol | None = None
    condition: Condition
    severity: AlertSeverity = AlertSeverity.WARNING
    cooldown_seconds: int = Field(300, ge=0, le=7 * 86_400)
    trading_account_id: uuid.UUID | None = None
    channels: list[Channel] = Field(
        default_factory=list,
        max_length=10,
        description="Where it goes besides the log: webhooks (signed, allowed hosts only) "
        "and e-mail addresses.",
    )

    @model_validator(mode="after")
    def _subject(self) -> Self:
        if isinstance(self.condition, ON_SYMBOLS) and self.symbol is None:
            raise ValueError(f"a {self.condition.kind} rule names its symbol")
        if isinstance(self.condition, AccountCondition) and self.trading_account_id is None:
            raise ValueError(f"a {self.condition.kind} rule names its trading_account_id")
        return self


class AlertChanges(BaseModel):
    """What may change on a rule; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Label | None = None
    condition: Condition | None = None
    severity: AlertSeverity | None = None
    cooldown_seconds: int | None = Field(None, ge=0, le=7 * 86_400)
    channels: list[Channel] | None = Field(None, max_length=10)
    status: Literal[AlertStatus.ACTIVE, AlertStatus.DISABLED] | None = Field(
        None, description="active to watch again, disabled to stop watching."
    )


@dataclass(frozen=True)
class Fired:
    """One rule that fired, with the observation that made it fire."""

    alert_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    symbol: str
    severity: AlertSeverity
    condition: AnyCondition
    price: float
    observed_at: datetime
    channels: list[dict[str, Any]]

    @property
    def measure(self) -> str:
        """What ``price`` holds: a price, or an account's value (P&L, drawdown, count)."""
        return "price" if isinstance(self.condition, PriceCondition) else "value"

    def describe(self) -> str:
        subject = f"{self.symbol} " if self.symbol else ""
        return f"{subject}{self.condition.describe()} (at {self.price:g})"

    def payload(self) -> dict[str, Any]:
        return {
            "alert_id": str(self.alert_id),
            "name": self.name,
            "symbol": self.symbol or None,
            "severity": self.severity.value,
            "condition": self.condition.describe(),
            self.measure: self.price,
            "observed_at": self.observed_at.isoformat(),
        }


def alert_rules(db: sessionmaker[Session]) -> OwnedRecords[Alert]:
    return OwnedRecords(db, Alert, "alert", "GET /api/v1/alerts")


def create_alert(db: sessionmaker[Session], owner: uuid.UUID, spec: AlertSpec) -> Alert:
    if spec.trading_account_id is not None:
        accounts(db).get(spec.trading_account_id, owner)
    fields = spec.model_dump(exclude={"condition", "channels"})
    fields["channels"] = [c.model_dump(mode="json") for c in spec.channels]
    condition = spec.condition.model_dump(mode="json")
    return alert_rules(db).add(
        lambda _: Alert(user_id=owner, kind=spec.condition.kind, condition=condition, **fields)
    )


def change_alert(
    db: sessionmaker[Session], alert_id: uuid.UUID, owner: uuid.UUID, changes: AlertChanges
) -> Alert:
    values = changes.model_dump(exclude={"condition", "channels"})
    if changes.channels is not None:
        values["channels"] = [c.model_dump(mode="json") for c in changes.channels]
    if changes.condition is not None:
        values.update(kind=changes.condition.kind, condition=changes.condition.model_dump())
    return alert_rules(db).change(alert_id, owner, **values)


def check_alerts(
    db: sessionmaker[Session],
    store: MarketStore,
    now: datetime | None = None,
    *,
    board: Board | None = None,
) -> list[Fired]:
    """Check every watching rule of every user against the store, the ledger and the
    live board (without one, features come from the store and no lag is seen); record
    what fires."""
    now = now or utcnow()
    watching = (AlertStatus.ACTIVE, AlertStatus.TRIGGERED)
    fired: list[Fired] = []
    with transaction(db) as session:
        query = select(Alert).where(Alert.status.in_(watching))
        # a rule another checker is firing right now is skipped, not fired twice
        rules = [
            (rule, CONDITIONS.validate_python(rule.condition))
            for rule in session.scalars(query.with_for_update(skip_locked=True))
        ]
        features = [(r.symbol or "", c) for r, c in rules if isinstance(c, FeatureCondition)]
        lags = any(isinstance(c, LagCondition) for _, c in rules)
        sources = Sources(
            session,
            prices=_latest_prices(
                store, [(r, c) for r, c in rules if isinstance(c, PriceCondition)]
            ),
            features=latest_features(board, store, features) if features else {},
            statuses=board.statuses() if board is not None and lags else {},
        )
        for rule, condition in rules:
            seen = _observe(sources, rule, condition, now)
            if seen is None or not condition.holds(seen[0]) or not _ready(rule, seen[1], now):
                continue
            rule.status = AlertStatus.TRIGGERED
            rule.trigger_count += 1
            rule.last_triggered_at = now
            rule.last_observed_at = seen[1]
            fired.append(_fired(rule, condition, *seen))
    for event in fired:
        logger.bind(event="alert.fired", alert_id=str(event.alert_id)).log(
            LOG_LEVELS[event.severity],
            "alert {!r}: {}",
            event.name,
            event.describe(),
        )
    return fired


@dataclass(frozen=True)
class Sources:
    """What rules are checked against, each read once per check."""

    session: Session
    prices: dict[PriceKey, tuple[float, datetime]]
    features: Latest
    statuses: dict[str, Values]


def _observe(
    sources: Sources, rule: Alert, condition: AnyCondition, now: datetime
) -> tuple[float, datetime] | None:
    """The rule's value now and when it was observed, if there is one."""
    if isinstance(condition, PriceCondition):
        return sources.prices.get((rule.symbol or "", condition.source, condition.timeframe))
    if isinstance(condition, FeatureCondition):
        return condition.observe(sources.features, rule.symbol or "")
    if isinstance(condition, LagCondition):
        return condition.observe(sources.statuses)
    if rule.trading_account_id is None:
        return None
    return condition.observe(sources.session, rule.trading_account_id, now)


def _ready(rule: Alert, observed_at: datetime, now: datetime) -> bool:
    """A newer observation than the one that last fired, and the cooldown has passed."""
    seen, fired = rule.last_observed_at, rule.last_triggered_at
    if seen is not None and observed_at <= seen:
        return False
    return fired is None or now - fired >= timedelta(seconds=rule.cooldown_seconds)


def _fired(rule: Alert, condition: AnyCondition, price: float, at: datetime) -> Fired:
    return Fired(
        rule.id,
        rule.user_id,
        rule.name,
        rule.symbol or "",
        rule.severity,
        condition,
        price,
        at,
        list(rule.channels),
    )


PriceKey = tuple[str, str, str]


def _latest_prices(
    store: MarketStore, rules: Iterable[tuple[Alert, PriceCondition]]
) -> dict[PriceKey, tuple[float, datetime]]:
    """(price, time) of the newest stored observation per (symbol, source, timeframe);
    a bar is observed when it closes."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for rule, condition in rules:
        wanted.setdefault((condition.source, condition.timeframe), set()).add(rule.symbol or "")
    prices: dict[PriceKey, tuple[float, datetime]] = {}
    for (source, timeframe), symbols in wanted.items():
        if source == "trades":
            rows = store.latest(DataKind.TRADES, symbols=sorted(symbols))
            price, observed = pl.col("price"), pl.col("ts")
        else:
            tf = Timeframe.parse(timeframe)
            rows = store.latest(DataKind.BARS, symbols=sorted(symbols), timeframe=tf)
            price, observed = pl.col("close"), pl.col("ts") + pl.duration(nanoseconds=tf.nanos)
        for row in rows.select("symbol", price, observed).iter_rows():
            prices[(row[0], source, timeframe)] = (float(row[1]), row[2])
    return prices
