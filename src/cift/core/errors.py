"""The error hierarchy every user-caused failure ends in.

Each subclass carries a stable machine-readable ``code`` (part of the public API:
clients switch on it) and the HTTP status the API answers with. Messages say what was
wrong and what to do about it; they never contain secrets or stack traces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class CiftError(Exception):
    """Base class of every error CIFT raises on purpose."""

    code: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message


class ValidationError(CiftError):
    """Input that is malformed or out of range (a parameter, a payload, a file)."""

    code = "validation"
    title = "Invalid input"
    http_status = 422
    exit_code = 2


class NotFoundError(CiftError):
    """The object asked for does not exist (or is not visible to the caller)."""

    code = "not_found"
    title = "Not found"
    http_status = 404


class NothingMatchedError(NotFoundError):
    """A query of stored data that matched no row: said plainly, and with an exit code of
    its own (3) so a script can tell "nothing there" from success and from a failure."""

    code = "nothing_matched"
    title = "Nothing matched"
    exit_code = 3


class ConflictError(CiftError):
    """The request clashes with the current state (duplicate name, stale version)."""

    code = "conflict"
    title = "Conflict"
    http_status = 409


class OrderStateError(ConflictError):
    """An order event its state does not allow (a cancel of a filled order, a fill beyond
    the order's quantity)."""

    code = "order_state"
    title = "Order state conflict"


class AuthenticationError(CiftError):
    """Missing, expired or invalid credentials."""

    code = "authentication"
    title = "Authentication required"
    http_status = 401


class PermissionDeniedError(CiftError):
    """Valid credentials without the role or scope the action needs."""

    code = "permission"
    title = "Permission denied"
    http_status = 403


class RateLimitedError(CiftError):
    """Too many requests; ``retry_after`` says how many seconds to wait."""

    code = "rate_limited"
    title = "Too many requests"
    http_status = 429

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class ConfigurationError(CiftError):
    """A setting is missing, malformed or unsafe for the chosen environment."""

    code = "configuration"
    title = "Configuration error"
    http_status = 500
    exit_code = 78  # EX_CONFIG from sysexits.h


class UpstreamError(CiftError):
    """An external system (data provider, broker, backend server) failed or is down."""

    code = "upstream"
    title = "Upstream failure"
    http_status = 502
    exit_code = 69  # EX_UNAVAILABLE


class ProviderError(UpstreamError):
    """A market-data provider answered with an error or could not be reached."""

    code = "provider"
    title = "Data provider failure"


class FeedRefusedError(ProviderError):
    """A live feed refused the key, the plan or the subscription: reconnecting cannot help."""

    code = "feed_refused"
    title = "Live feed refused"


class FeedDroppedError(ProviderError):
    """A live feed dropped or refused the session for now (slow client, limits, bad frame)."""

    code = "feed_dropped"
    title = "Live feed dropped"


class BrokerError(UpstreamError):
    """A broker rejected a request or could not be reached."""

    code = "broker"
    title = "Broker failure"


class BackendUnavailableError(UpstreamError):
    """A configured backend (database, Redis, Kafka, ...) cannot be reached."""

    code = "backend_unavailable"
    title = "Backend unavailable"
    http_status = 503


ERROR_TYPES: tuple[type[CiftError], ...] = (
    CiftError,
    ValidationError,
    NotFoundError,
    NothingMatchedError,
    ConflictError,
    OrderStateError,
    AuthenticationError,
    PermissionDeniedError,
    RateLimitedError,
    ConfigurationError,
    UpstreamError,
    ProviderError,
    FeedRefusedError,
    FeedDroppedError,
    BrokerError,
    BackendUnavailableError,
)
"""Every error class, for documentation and for tests that codes stay unique."""
