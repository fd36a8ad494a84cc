"""Deliver fired alerts to their rules' channels and record every outcome.

Each alert is always logged (``alert.fired``); a rule's webhooks and e-mail addresses
get it too. A delivery that fails or is refused never stops the others, and each one is
a row of ``alert_deliveries`` (channel, target, status, attempts, error) that
``cift alerts history`` and ``GET /api/v1/alert-deliveries`` show.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from loguru import logger
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.core.settings import Settings
from cift.db.base import utcnow
from cift.db.engine import transaction
from cift.db.models import Alert, AlertDelivery, AlertSeverity, DeliveryStatus
from cift.execution.delivery.channels import (
    Channel,
    FailedError,
    RefusedError,
    WebhookChannel,
    shown,
)
from cift.execution.delivery.mail import send_email
from cift.execution.delivery.webhook import send_webhook
from cift.execution.metrics import ALERT_DELIVERIES, ALERTS_FIRED

CHANNELS: TypeAdapter[Channel] = TypeAdapter(Channel)


class Alerted(Protocol):
    """A fired alert, as delivered (any rule kind)."""

    @property
    def alert_id(self) -> uuid.UUID: ...

    @property
    def user_id(self) -> uuid.UUID: ...

    @property
    def name(self) -> str: ...

    @property
    def severity(self) -> AlertSeverity: ...

    @property
    def channels(self) -> list[dict[str, Any]]: ...

    def describe(self) -> str:
        """What happened, in a line."""
        ...

    def payload(self) -> dict[str, Any]:
        """The alert as JSON values (the webhook's body)."""
        ...


def deliver(
    settings: Settings,
    db: sessionmaker[Session],
    fired: Sequence[Alerted],
    now: datetime | None = None,
) -> list[AlertDelivery]:
    """Send each fired alert to each of its rule's channels; the recorded outcomes."""
    rows: list[AlertDelivery] = []
    ALERTS_FIRED.inc(len(fired))
    for event in fired:
        for raw in event.channels:
            channel = CHANNELS.validate_python(raw)
            row = _one(settings, event, channel, now or utcnow())
            ALERT_DELIVERIES.labels(row.channel, row.status).inc()
            rows.append(row)
    if rows:
        with transaction(db) as session:
            session.add_all(rows)
    return rows


def _one(settings: Settings, event: Alerted, channel: Channel, fired_at: datetime) -> AlertDelivery:
    status, attempts, error = DeliveryStatus.DELIVERED, 0, None
    try:
        if isinstance(channel, WebhookChannel):
            target = shown(channel.url)
            attempts = send_webhook(settings, channel.url, event.payload())
        else:
            target = channel.to
            attempts = send_email(settings, channel.to, _subject(event), _text(event))
    except RefusedError as exc:
        status, error = DeliveryStatus.REFUSED, str(exc)
    except FailedError as exc:
        status, attempts, error = DeliveryStatus.FAILED, exc.attempts, str(exc)
    if status is not DeliveryStatus.DELIVERED:
        logger.warning("alert {!r} not delivered to {}: {}", event.name, target, error)
    return AlertDelivery(
        user_id=event.user_id,
        alert_id=event.alert_id,
        channel=channel.kind,
        target=target,
        status=status,
        attempts=attempts,
        error=None if error is None else error[:1000],
        fired_at=fired_at,
        finished_at=utcnow(),
    )


def _subject(event: Alerted) -> str:
    return f"[CIFT {event.severity.value}] {event.name}: {event.describe()}"


def _text(event: Alerted) -> str:
    lines = [f"{key}: {value}" for key, value in event.payload().items()]
    return "\n".join(["A CIFT alert fired.", "", *lines, ""])


def history(
    db: sessionmaker[Session], owner: uuid.UUID, alert_id: uuid.UUID | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The owner's deliveries, newest first, each with its rule's name."""
    query = (
        select(AlertDelivery, Alert.name)
        .join(Alert, Alert.id == AlertDelivery.alert_id)
        .where(AlertDelivery.user_id == owner)
        .order_by(AlertDelivery.fired_at.desc(), AlertDelivery.id.desc())
        .limit(limit)
    )
    if alert_id is not None:
        query = query.where(AlertDelivery.alert_id == alert_id)
    with db() as session:
        return [
            {
                "fired_at": row.fired_at.isoformat(),
                "alert": name,
                "alert_id": str(row.alert_id),
                "channel": row.channel,
                "target": row.target,
                "status": row.status.value,
                "attempts": row.attempts,
                "error": row.error,
            }
            for row, name in session.execute(query)
        ]
