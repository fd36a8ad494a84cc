"""Every request that changes something is appended to the audit log.

The entry is written in the transaction that commits the request's change (see
:mod:`cift.audit.requests`), so the change and its entry stand or fall together, and
an entry of a created object names its id. A request that commits nothing (refused,
failed, a no-op) is appended before it is answered. Routes that record a more precise
security event themselves (login, key creation, role change, ...) mark the request as
audited, and this middleware then adds nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
from loguru import logger
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from cift.audit import CURRENT, Actor, EntryFields, RequestEntry, append
from cift.db.engine import transaction
from cift.db.models import AuditOutcome

from ..metrics import UNMATCHED_ROUTE
from .base import HttpMiddleware
from .ratelimit import client_ip

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from cift.identity.principal import Principal

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PRINCIPAL_KEY = "principal"
AUDITED_KEY = "audited"
ANONYMOUS = "anonymous"


def audits_itself(request: Request) -> None:
    """Called by a route that records its own security event (login, a key made, a role
    changed, ...) once it runs: this middleware then adds nothing for the request. It is
    called from the route's body, not as a dependency, because dependencies run even
    when the body is refused, and that refusal must still be audited here."""
    request.scope.setdefault("state", {})[AUDITED_KEY] = True


def outcome_of(status: int) -> AuditOutcome:
    if status in (401, 403, 429):
        return AuditOutcome.DENIED
    return AuditOutcome.SUCCESS if status < 400 else AuditOutcome.FAILURE


class AuditMiddleware(HttpMiddleware):
    """Append ``<METHOD> <route>`` with actor, target, client IP, request id and outcome."""

    def __init__(self, app: ASGIApp, sessions: sessionmaker[Session]) -> None:
        super().__init__(app)
        self.sessions = sessions

    def wants(self, scope: Scope) -> bool:
        return scope.get("method") in MUTATING

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        entry = RequestEntry(lambda: None if _self_audited(scope) else _fields(scope, None))

        async def send_after_audit(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state", {})
                if not _self_audited(scope) and not entry.written:
                    state[AUDITED_KEY] = True
                    await anyio.to_thread.run_sync(self._append, scope, message["status"])
            await send(message)

        token = CURRENT.set(entry)
        try:
            await self.app(scope, receive, send_after_audit)
        finally:
            CURRENT.reset(token)

    def _append(self, scope: Scope, status: int) -> None:
        fields = _fields(scope, status)
        try:
            with transaction(self.sessions) as session:
                append(
                    session,
                    fields.actor,
                    fields.action,
                    outcome_of(status),
                    target_type=fields.target_type,
                    target_id=fields.target_id,
                    details=fields.details,
                )
        except Exception:
            logger.exception("could not append {} to the audit log", fields.action)


def _self_audited(scope: Scope) -> bool:
    """Whether the route records this request's events itself."""
    return bool(scope.get("state", {}).get(AUDITED_KEY))


def _fields(scope: Scope, status: int | None) -> EntryFields:
    """The entry of the request in ``scope``; ``status`` None while its change commits."""
    state: dict[str, Any] = scope.get("state", {})
    principal: Principal | None = state.get(PRINCIPAL_KEY)
    route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
    params = scope.get("path_params") or {}
    if principal is not None:
        actor = principal.actor(client_ip(scope), state.get("request_id"))
    else:
        actor = Actor(None, ANONYMOUS, client_ip(scope), state.get("request_id"))
    details: dict[str, str | int | bool | None] = {"path": str(scope.get("path", ""))[:300]}
    if status is not None:
        details["status"] = status
    return EntryFields(
        actor,
        f"{scope['method']} {route}",
        _domain(route),
        str(next(iter(params.values())))[:100] if params else None,
        details,
    )


def _domain(route: str) -> str | None:
    """``/api/v1/backtests/{run_id}`` -> ``backtests``."""
    parts = [p for p in route.split("/") if p and not p.startswith("{")]
    return parts[2][:50] if len(parts) > 2 and parts[0] == "api" else None
