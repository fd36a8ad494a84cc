"""Oversight: the append-only, hash-chained audit log, users' alert rules and every
delivery of an alert."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from cift.db.base import Base, OwnedByUser, Timestamps, str_enum
from cift.db.types import JSONDocument, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY, not a BIGINT one.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class AuditOutcome(StrEnum):
    """How an audited action ended."""

    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class AuditEntry(Base):
    """One audited action. Each row stores its predecessor's hash, so edits are detectable.

    Actors are referenced with ``ON DELETE RESTRICT``: users with history are disabled,
    never deleted, and the log is never rewritten.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_actor_user_id_occurred_at", "actor_user_id", "occurred_at"),
        Index("ix_audit_log_action", "action"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT")
    )
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[AuditOutcome] = mapped_column(str_enum(AuditOutcome, "outcome"))
    client_ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AlertSeverity(StrEnum):
    """How loudly an alert speaks."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    """Whether an alert rule is watching."""

    ACTIVE = "active"
    TRIGGERED = "triggered"
    DISABLED = "disabled"


class Alert(OwnedByUser, Timestamps, Base):
    """A user's alert rule (price, metric, risk or job condition) and its firing state."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_user_id_status", "user_id", "status"),
        Index("ix_alerts_symbol", "symbol"),
        CheckConstraint("cooldown_seconds >= 0", name="cooldown_non_negative"),
        CheckConstraint("trigger_count >= 0", name="trigger_count_non_negative"),
    )

    trading_account_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("trading_accounts.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(50))
    symbol: Mapped[str | None] = mapped_column(String(32))
    condition: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    severity: Mapped[AlertSeverity] = mapped_column(
        str_enum(AlertSeverity, "severity"), default=AlertSeverity.WARNING
    )
    status: Mapped[AlertStatus] = mapped_column(
        str_enum(AlertStatus, "status"), default=AlertStatus.ACTIVE
    )
    cooldown_seconds: Mapped[int] = mapped_column(default=300, server_default=text("300"))
    trigger_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    last_triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_observed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="When the price that last fired the rule was observed."
    )


class DeliveryStatus(StrEnum):
    """How a delivery of a fired alert ended."""

    DELIVERED = "delivered"
    FAILED = "failed"
    REFUSED = "refused"
    """Not attempted: the target is not allowed, or the channel is not configured."""


class AlertDelivery(OwnedByUser, Base):
    """One delivery of one fired alert to one channel, with how it went."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        Index("ix_alert_deliveries_user_id_fired_at", "user_id", "fired_at"),
        Index("ix_alert_deliveries_alert_id", "alert_id"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500))
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, "status"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(1000))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
