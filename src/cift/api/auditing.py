"""Every request that changes something is appended to the audit log before it is answered.

Routes that record a more precise security event themselves (login, key creation, role
change, ...) mark the request as audited, and this middleware then adds nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
from loguru import logger
from sqlalchemy.orm import Session, sessionmaker

from cift.audit import Actor, append
from cift.db.engine import transaction
from cift.db.models import AuditOutcome

from .metrics import UNMATCHED_ROUTE
from .ratelimit import client_ip

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from cift.identity.principal import Principal

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PRINCIPAL_KEY = "principal"
AUDITED_KEY = "audited"
ANONYMOUS = "anonymous"


def outcome_of(status: int) -> AuditOutcome:
    if status in (401, 403, 429):
        return AuditOutcome.DENIED
    return AuditOutcome.SUCCESS if status < 400 else AuditOutcome.FAILURE


class AuditMiddleware:
    """Append ``<METHOD> <route>`` with actor, target, client IP, request id and outcome."""

    def __init__(self, app: ASGIApp, sessions: sessionmaker[Session]) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in MUTATING:
            await self.app(scope, receive, send)
            return

        async def send_after_audit(message: Message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state", {})
                if not state.get(AUDITED_KEY):
                    state[AUDITED_KEY] = True
                    await anyio.to_thread.run_sync(self._append, scope, message["status"])
            await send(message)

        await self.app(scope, receive, send_after_audit)

    def _append(self, scope: Scope, status: int) -> None:
        state: dict[str, Any] = scope.get("state", {})
        principal: Principal | None = state.get(PRINCIPAL_KEY)
        route = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
        params = scope.get("path_params") or {}
        if principal is not None:
            actor = principal.actor(client_ip(scope), state.get("request_id"))
        else:
            actor = Actor(None, ANONYMOUS, client_ip(scope), state.get("request_id"))
        try:
            with transaction(self.sessions) as session:
                append(
                    session,
                    actor,
                    f"{scope['method']} {route}",
                    outcome_of(status),
                    target_type=_domain(route),
                    target_id=str(next(iter(params.values())))[:100] if params else None,
                    details={"status": status, "path": str(scope.get("path", ""))[:300]},
                )
        except Exception:
            logger.exception("could not append {} {} to the audit log", scope["method"], route)


def _domain(route: str) -> str | None:
    """``/api/v1/backtests/{run_id}`` -> ``backtests``."""
    parts = [p for p in route.split("/") if p and not p.startswith("{")]
    return parts[2][:50] if len(parts) > 2 and parts[0] == "api" else None
