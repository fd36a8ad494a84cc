"""Your alert rules: create, list, read, change or disable, delete; and their deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from cift.execution import alerts
from cift.execution.delivery.send import history

from ..deps import State
from ..schemas.alerts import AlertChanges, AlertOut, AlertSpec, DeliveryOut
from ..schemas.problem import Problem
from ..security import ReadAccess, TradeAccess
from . import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/alerts", tags=["alerts"])
deliveries_router = APIRouter(prefix=f"{API_PREFIX}/alert-deliveries", tags=["alerts"])


@router.get("", summary="Your alert rules")
def list_alerts(state: State, who: ReadAccess) -> list[AlertOut]:
    return [AlertOut.model_validate(a) for a in alerts.alert_rules(state.db).list(who.user_id)]


@router.post(
    "",
    summary="Create an alert rule",
    status_code=status.HTTP_201_CREATED,
    responses={404: {"model": Problem, "description": "No such trading account of yours."}},
)
def create_alert(state: State, who: TradeAccess, body: AlertSpec) -> AlertOut:
    """A price level on a stored symbol; `cift alerts check [--every S]` fires it."""
    return AlertOut.model_validate(alerts.create_alert(state.db, who.user_id, body))


@deliveries_router.get("", summary="Deliveries of your fired alerts, newest first")
def list_deliveries(
    state: State,
    who: ReadAccess,
    alert_id: Annotated[uuid.UUID | None, Query(description="Only this rule's.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[DeliveryOut]:
    """Each webhook and e-mail delivery: ``delivered``, ``failed`` (with the attempts and
    the last error) or ``refused`` (not attempted: host not allowed, private address,
    channel not configured)."""
    rows = history(state.db, who.user_id, alert_id, limit)
    return [DeliveryOut(**row) for row in rows]


@router.get("/{alert_id}", summary="One of your alert rules")
def get_alert(state: State, who: ReadAccess, alert_id: uuid.UUID) -> AlertOut:
    return AlertOut.model_validate(alerts.alert_rules(state.db).get(alert_id, who.user_id))


@router.patch("/{alert_id}", summary="Change, disable or re-activate an alert rule")
def change_alert(
    state: State, who: TradeAccess, alert_id: uuid.UUID, body: AlertChanges
) -> AlertOut:
    return AlertOut.model_validate(alerts.change_alert(state.db, alert_id, who.user_id, body))


@router.delete("/{alert_id}", summary="Delete one of your alert rules")
def delete_alert(state: State, who: TradeAccess, alert_id: uuid.UUID) -> AlertOut:
    return AlertOut.model_validate(alerts.alert_rules(state.db).remove(alert_id, who.user_id))
