"""Signed access tokens (JWT, HS256) and rotating refresh tokens kept in ``sessions``.

A login starts a *family*: one ``sessions`` row per refresh token, each replaced by the
next when it is used. Presenting a refresh token that was already replaced means it was
copied, so the whole family is revoked. Access tokens name their family (``sid``) and
stop working the moment it is revoked (logout, password change, reuse, disabled user).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from cift.audit import Actor, append
from cift.core.errors import AuthenticationError
from cift.core.settings import Settings
from cift.db.base import utcnow
from cift.db.engine import transaction
from cift.db.models import AuditOutcome, AuthSession, User

ALGORITHM = "HS256"
AUDIENCE = "cift-api"
ISSUER = "cift"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "jti", "aud", "iss", "sid")
LEEWAY_SECONDS = 5
INVALID_TOKEN = "The access token is invalid or has expired; sign in again or refresh it."  # noqa: S105  # nosec B105
INVALID_REFRESH = "The refresh token is invalid, expired or revoked; sign in again."


@dataclass(frozen=True)
class TokenPair:
    """What a login or refresh hands out. The refresh token is shown only here."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_at: datetime
    user_id: uuid.UUID
    family_id: uuid.UUID


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    family_id: uuid.UUID
    token_id: str
    issued_at: datetime


def signing_key(settings: Settings) -> bytes:
    """A 256-bit key for tokens only, derived from CIFT_SECRET_KEY."""
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, b"cift access tokens v1", hashlib.sha256).digest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_token(settings: Settings, user_id: uuid.UUID, family_id: uuid.UUID) -> str:
    now = utcnow()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "sid": str(family_id),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=settings.access_token_minutes),
    }
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM)


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """The claims of a token this server signed, unexpired, for this API; else 401."""
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS)},
        )
        return AccessClaims(
            user_id=uuid.UUID(str(claims["sub"])),
            family_id=uuid.UUID(str(claims["sid"])),
            token_id=str(claims["jti"]),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), tz=utcnow().tzinfo),
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        raise AuthenticationError(INVALID_TOKEN) from None


def start_session(
    db: sessionmaker[Session], settings: Settings, who: Actor, user: User, user_agent: str | None
) -> TokenPair:
    """A new family with its first refresh token, and an access token for it."""
    with transaction(db) as session:
        return _issue(session, settings, who, user.id, uuid.uuid4(), user_agent)


def _issue(
    session: Session,
    settings: Settings,
    who: Actor,
    user_id: uuid.UUID,
    family_id: uuid.UUID,
    user_agent: str | None,
) -> TokenPair:
    refresh = secrets.token_urlsafe(32)
    now = utcnow()
    row = AuthSession(
        user_id=user_id,
        family_id=family_id,
        refresh_token_hash=token_digest(refresh),
        created_at=now,
        expires_at=now + timedelta(days=settings.refresh_token_days),
        client_ip=who.client_ip,
        user_agent=(user_agent or "")[:500] or None,
    )
    session.add(row)
    session.flush()
    return TokenPair(
        access_token=access_token(settings, user_id, family_id),
        refresh_token=refresh,
        expires_in=settings.access_token_minutes * 60,
        refresh_expires_at=row.expires_at,
        user_id=user_id,
        family_id=family_id,
    )


def refresh(
    db: sessionmaker[Session],
    settings: Settings,
    who: Actor,
    refresh_token: str,
    user_agent: str | None = None,
) -> TokenPair:
    """Swap a refresh token for a new pair; a replaced token revokes its whole family.

    The swap claims the token with one conditional UPDATE before reading anything, so of
    concurrent refreshes of one token exactly one wins (the others wait for its commit and
    find the token replaced), and every loser is treated as a reuse."""
    digest = token_digest(refresh_token)
    with transaction(db) as session:
        now = utcnow()
        claimed = session.execute(
            update(AuthSession)
            .where(
                AuthSession.refresh_token_hash == digest,
                AuthSession.revoked_at.is_(None),
                AuthSession.replaced_by_id.is_(None),
                AuthSession.expires_at > now,
            )
            .values(revoked_at=now, revoked_reason="rotated", last_used_at=now)
        )
        row = session.scalar(select(AuthSession).where(AuthSession.refresh_token_hash == digest))
        won = claimed.rowcount == 1  # type: ignore[attr-defined]
        if row is not None and _refresh_allowed(session, who, row, won):
            pair = _issue(session, settings, who, row.user_id, row.family_id, user_agent)
            row.replaced_by_id = session.scalar(
                select(AuthSession.id).where(
                    AuthSession.refresh_token_hash == token_digest(pair.refresh_token)
                )
            )
            return pair
    raise AuthenticationError(INVALID_REFRESH)


def _refresh_allowed(session: Session, who: Actor, row: AuthSession, won: bool) -> bool:
    """Whether the claimed token may be swapped; a replaced one revokes its family."""
    user = session.get(User, row.user_id)
    if won:
        return user is not None and user.is_active
    if row.replaced_by_id is not None:
        name = user.username if user else str(row.user_id)
        revoke_family(session, row.family_id, "refresh_reuse")
        append(
            session,
            Actor(row.user_id, name, who.client_ip, who.request_id),
            "auth.refresh_reuse",
            AuditOutcome.DENIED,
            target_type="session_family",
            target_id=str(row.family_id),
        )
    return False


def revoke_family(session: Session, family_id: uuid.UUID, reason: str) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.family_id == family_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def revoke_user_sessions(session: Session, user_id: uuid.UUID, reason: str) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def logout(db: sessionmaker[Session], who: Actor, family_id: uuid.UUID) -> None:
    """End a login: its refresh tokens and access tokens stop working at once."""
    with transaction(db) as session:
        revoke_family(session, family_id, "logout")
        append(session, who, "auth.logout", target_type="session_family", target_id=str(family_id))


def family_alive(session: Session, user_id: uuid.UUID, family_id: uuid.UUID) -> bool:
    """Whether the family still has an unrevoked, unexpired refresh token of this user."""
    found = session.scalar(
        select(AuthSession.id)
        .where(
            AuthSession.family_id == family_id,
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
        .limit(1)
    )
    return found is not None
