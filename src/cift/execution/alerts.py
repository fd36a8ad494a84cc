"""Alert rules: a user's price conditions on stored symbols, and checking them.

A rule fires when the newest stored price of its symbol (last trade, or last bar close
at the rule's timeframe) crosses its level; it then waits ``cooldown_seconds`` and for a
newer observation before firing again. Firing logs a structured ``alert.fired`` event
at the rule's severity and counts it on the rule.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import polars as pl
from loguru import logger
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.data.store import MarketStore
from cift.db.base import utcnow
from cift.db.engine import transaction
from cift.db.models import Alert, AlertSeverity, AlertStatus
from cift.db.repositories.owned import OwnedRecords
from cift.execution.accounts import accounts
from cift.execution.delivery.channels import Channel
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


class AlertSpec(BaseModel):
    """A new rule; ``trading_account_id``, if given, must be one of your accounts."""

    model_config = ConfigDict(extra="forbid")

    name: Label
    symbol: Symbol
    condition: PriceCondition
    severity: AlertSeverity = AlertSeverity.WARNING
    cooldown_seconds: int = Field(300, ge=0, le=7 * 86_400)
    trading_account_id: uuid.UUID | None = None
    channels: list[Channel] = Field(
        default_factory=list,
        max_length=10,
        description="Where it goes besides the log: webhooks (signed, allowed hosts only) "
        "and e-mail addresses.",
    )


class AlertChanges(BaseModel):
    """What may change on a rule; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Label | None = None
    condition: PriceCondition | None = None
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
    condition: PriceCondition
    price: float
    observed_at: datetime
    channels: list[dict[str, Any]]

    def describe(self) -> str:
        return f"{self.symbol} {self.condition.describe()} (at {self.price:g})"

    def payload(self) -> dict[str, Any]:
        return {
            "alert_id": str(self.alert_id),
            "name": self.name,
            "symbol": self.symbol,
            "severity": self.severity.value,
            "condition": self.condition.describe(),
            "price": self.price,
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
    db: sessionmaker[Session], store: MarketStore, now: datetime | None = None
) -> list[Fired]:
    """Check every watching rule of every user against the store; record what fires."""
    now = now or utcnow()
    watching = (AlertStatus.ACTIVE, AlertStatus.TRIGGERED)
    fired: list[Fired] = []
    with transaction(db) as session:
        query = select(Alert).where(Alert.status.in_(watching))
        # a rule another checker is firing right now is skipped, not fired twice
        rules = [
            (rule, PriceCondition.model_validate(rule.condition))
            for rule in session.scalars(query.with_for_update(skip_locked=True))
        ]
        prices = _latest_prices(store, rules)
        for rule, condition in rules:
            seen = prices.get((rule.symbol or "", condition.source, condition.timeframe))
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
            "alert {!r}: {} {} (at {})",
            event.name,
            event.symbol,
            event.condition.describe(),
            event.price,
        )
    return fired


def _ready(rule: Alert, observed_at: datetime, now: datetime) -> bool:
    """A newer observation than the one that last fired, and the cooldown has passed."""
    seen, fired = rule.last_observed_at, rule.last_triggered_at
    if seen is not None and observed_at <= seen:
        return False
    return fired is None or now - fired >= timedelta(seconds=rule.cooldown_seconds)


def _fired(rule: Alert, condition: PriceCondition, price: float, at: datetime) -> Fired:
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
