"""Authentication and authorization as FastAPI dependencies.

Every route under ``/api/v1`` declares the scope it needs with one of the annotated
principals below (``ReadAccess``, ``TradeAccess``, ``AdminAccess``, ``SignedIn``); the
scope shows in the OpenAPI document as the operation's security requirement, which is
what the route-matrix test reads. Public routes declare nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBearer,
    SecurityScopes,
)

from cift.audit import Actor
from cift.core.errors import AuthenticationError, PermissionDeniedError
from cift.identity import keys, principal
from cift.identity.principal import Principal
from cift.identity.scopes import Scope, sorted_scopes

from .deps import AppState, State, get_state
from .middleware.auditing import PRINCIPAL_KEY
from .middleware.ratelimit import Limit, charge, client_ip
from .problems import request_id_of

session_scheme = HTTPBearer(
    scheme_name="session",
    bearerFormat="JWT",
    auto_error=False,
    description="`Authorization: Bearer <token>`: an access token from `POST /api/v1/auth/login` "
    "(or `/refresh`), or an API key (`cift_...`) sent the same way.",
)
key_scheme = APIKeyHeader(
    name="X-API-Key",
    scheme_name="apiKey",
    auto_error=False,
    description="`X-API-Key: cift_...`: an API key from `POST /api/v1/keys` or `cift keys create`.",
)
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(session_scheme)]
KeyHeader = Annotated[str | None, Depends(key_scheme)]
NO_CREDENTIALS = (
    "This route needs credentials: an access token (POST /api/v1/auth/login) as "
    "'Authorization: Bearer <token>', or an API key as 'X-API-Key'."
)


MALFORMED_AUTHORIZATION = (
    "The Authorization header is not 'Bearer <access token or API key>'; fix it or leave "
    "it out (an API key may go in X-API-Key instead)."
)


def actor_of(request: Request, who: Principal | None = None) -> Actor:
    """The audit actor for a request: its principal, or anonymous, with IP and request id."""
    ip, rid = client_ip(request.scope), request_id_of(request)
    return who.actor(ip, rid) if who else Actor(None, "anonymous", ip, rid)


def _resolve(state: AppState, bearer: str | None, api_key: str | None) -> Principal:
    """The caller; every credential sent must be valid, and all must name the same one."""
    found = []
    if api_key:
        found.append(principal.from_api_key(state.db, api_key))
    if bearer:
        if keys.looks_like_key(bearer):
            found.append(principal.from_api_key(state.db, bearer))
        else:
            found.append(principal.from_access_token(state.db, state.settings, bearer))
    if not found:
        raise AuthenticationError(NO_CREDENTIALS)
    if len(found) > 1 and found[0] != found[1]:
        raise AuthenticationError(
            "The Authorization and X-API-Key headers carry different credentials; send one."
        )
    return found[0]


def _admit(
    request: Request, state: AppState, who: Principal, security_scopes: SecurityScopes
) -> Principal:
    """Check the scopes, charge the rate limits and remember the caller for the audit log."""
    request.scope.setdefault("state", {})[PRINCIPAL_KEY] = who
    missing = {Scope(s) for s in security_scopes.scopes} - who.scopes
    if missing:
        granted = ", ".join(sorted_scopes(who.scopes)) or "none"
        raise PermissionDeniedError(
            f"This needs the {', '.join(sorted_scopes(missing))} scope; your "
            f"{who.credential.replace('_', ' ')} grants: {granted}."
        )
    settings = state.settings
    if settings.rate_limit_enabled:
        reading = request.method in ("GET", "HEAD")
        limit = Limit(
            settings.rate_limit_read_per_minute if reading else settings.rate_limit_write_per_minute
        )
        kind = "read" if reading else "write"
        buckets = [(f"user:{who.user_id}:{kind}", limit)]
        if who.key_id is not None:
            buckets.append((f"key:{who.key_id}:{kind}", limit))
        charge(request, state.limiter, buckets)
    return who


def authenticated(
    request: Request,
    security_scopes: SecurityScopes,
    bearer: BearerCredentials,
    api_key: KeyHeader,
    state: State,
) -> Principal:
    """The caller, by access token or API key, holding every scope the route declares."""
    if bearer is None and request.headers.get("authorization") is not None:
        raise AuthenticationError(MALFORMED_AUTHORIZATION)
    who = _resolve(state, bearer.credentials if bearer else None, api_key)
    return _admit(request, state, who, security_scopes)


def websocket_principal(
    state: AppState, bearer: str | None, api_key: str | None, scope: Scope
) -> Principal:
    """The caller of a WebSocket (no rate limit: one charge per connection is not a
    read), holding ``scope``."""
    who = _resolve(state, bearer, api_key)
    if scope not in who.scopes:
        raise PermissionDeniedError(f"This needs the {scope.value} scope.")
    return who


def signed_in(
    request: Request,
    security_scopes: SecurityScopes,
    bearer: BearerCredentials,
    state: State,
) -> Principal:
    """The caller by access token only: account changes need a password login, not a key."""
    token = bearer.credentials if bearer else None
    if token is None and request.headers.get("authorization") is not None:
        raise AuthenticationError(MALFORMED_AUTHORIZATION)
    if token is None and request.headers.get(key_scheme.model.name):
        token = request.headers[key_scheme.model.name]
    if not token:
        raise AuthenticationError(
            "This route needs a signed-in session: 'Authorization: Bearer <access token>' "
            "from POST /api/v1/auth/login."
        )
    if keys.looks_like_key(token):
        principal.from_api_key(state.db, token)  # an invalid key is still a 401
        raise PermissionDeniedError(
            "API keys cannot manage the account; sign in with a password "
            "(POST /api/v1/auth/login) and use the access token."
        )
    who = principal.from_access_token(state.db, state.settings, token)
    return _admit(request, state, who, security_scopes)


def auth_attempts(request: Request) -> None:
    """Login, refresh and sign-up attempts are limited per client IP."""
    state = get_state(request)
    if state.settings.rate_limit_enabled:
        limit = Limit(state.settings.rate_limit_auth_per_minute)
        charge(request, state.limiter, [(f"auth:{client_ip(request.scope)}", limit)])


ReadAccess = Annotated[Principal, Security(authenticated, scopes=[Scope.READ.value])]
TradeAccess = Annotated[Principal, Security(authenticated, scopes=[Scope.TRADE.value])]
AdminAccess = Annotated[Principal, Security(authenticated, scopes=[Scope.ADMIN.value])]
SignedIn = Annotated[Principal, Security(signed_in, scopes=[Scope.READ.value])]
AuthAttempt = Depends(auth_attempts)
READ = Security(authenticated, scopes=[Scope.READ.value])
"""For a router whose every route only reads: ``APIRouter(..., dependencies=[READ])``."""


GUARD_RESPONSES = {
    "401": "No valid credentials: sign in, refresh the access token, or check the API key.",
    "403": "The credential lacks the scope this operation declares (or is an API key where "
    "a signed-in session is needed).",
    "404": "No such object, or it belongs to another user.",
    "400": "The request body cannot be parsed at all (e.g. it is not UTF-8 JSON text).",
    "413": "The request body is larger than CIFT_MAX_BODY_BYTES.",
    "429": "Rate limit exceeded: retry after the seconds in Retry-After.",
}


def document_guard_responses(schema: dict[str, Any], problem: dict[str, Any]) -> None:
    """Document in OpenAPI the problem answers that authentication and the guards give.

    ``problem`` is the response content to use (the Problem schema as problem+json).
    """
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            statuses = ["429"]
            if operation.get("security"):
                statuses += ["401", "403"]
            if "{" in path:
                statuses.append("404")
            if "requestBody" in operation:
                statuses += ["400", "413"]
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(
                    status, {"description": GUARD_RESPONSES[status], "content": problem}
                )
