"""API keys: random secrets shown once, stored as a SHA-256 hash behind a lookup prefix.

A key reads ``cift_<prefix>_<secret>``: the 12-character prefix finds the row, the hash
of the whole key proves it. Keys carry scopes (at most their owner's), may expire, are
revoked at once, and record when they were last used.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.audit import Actor, append
from cift.core.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from cift.db.base import utcnow
from cift.db.engine import transaction
from cift.db.models import ApiKey, User

from .scopes import ROLE_SCOPES, Scope, sorted_scopes

KEY_PREFIX = "cift_"
KEY_PATTERN = re.compile(r"^cift_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
LAST_USED_EVERY = timedelta(seconds=60)
"""``last_used_at`` is written at most this often per key, not on every request."""
INVALID_KEY = (
    "The API key is invalid, expired or revoked; create a new one with 'cift keys create'."
)


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    db: sessionmaker[Session],
    who: Actor,
    owner_id: uuid.UUID,
    name: str,
    scopes: Iterable[Scope],
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key of ``owner_id`` and its plaintext, which is never stored or shown again."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError("A key name has 1 to 100 characters, e.g. 'research-notebook'.")
    wanted = frozenset(scopes)
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationError("The expiry time is in the past; give a future time or none.")
    prefix = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction(db) as session:
        owner = session.get(User, owner_id)
        if owner is None or not owner.is_active:
            raise NotFoundError(f"No active user {owner_id}.")
        beyond = wanted - ROLE_SCOPES[owner.role]
        if beyond:
            raise ValidationError(
                f"A {owner.role.value} cannot hold keys with scope "
                f"{', '.join(sorted_scopes(beyond))}; ask an admin for a role that grants it."
            )
        clash = session.scalar(
            select(ApiKey.id).where(ApiKey.user_id == owner_id, ApiKey.name == name)
        )
        if clash is not None:
            raise ConflictError(f"You already have a key named {name!r}; choose another name.")
        key = ApiKey(
            user_id=owner_id,
            name=name,
            prefix=prefix,
            key_hash=key_digest(plaintext),
            scopes=sorted_scopes(wanted),
            created_at=utcnow(),
            expires_at=expires_at,
        )
        session.add(key)
        session.flush()
        append(
            session,
            who,
            "key.created",
            target_type="api_key",
            target_id=str(key.id),
            details={"owner": str(owner_id), "name": name, "scopes": ",".join(key.scopes)},
        )
        return key, plaintext


def list_keys(db: sessionmaker[Session], owner_id: uuid.UUID | None) -> list[ApiKey]:
    """Keys of one user (every user's when ``owner_id`` is None), newest first."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)
    if owner_id is not None:
        query = query.where(ApiKey.user_id == owner_id)
    with db() as session:
        return list(session.scalars(query))


def get_key(
    db: sessionmaker[Session], key_id: uuid.UUID | str, owner_id: uuid.UUID | None
) -> ApiKey:
    """A key by id or prefix; another user's key is reported as missing."""
    with db() as session:
        return key_in(session, key_id, owner_id)


def key_in(session: Session, key_id: uuid.UUID | str, owner_id: uuid.UUID | None) -> ApiKey:
    """:func:`get_key` in ``session`` (a transaction's own)."""
    key = None
    try:
        key = session.get(ApiKey, uuid.UUID(str(key_id)))
    except ValueError:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == str(key_id).strip().lower()))
    if key is None or (owner_id is not None and key.user_id != owner_id):
        raise NotFoundError(f"No API key {key_id}; list yours with 'cift keys ls'.")
    return key


def revoke_key(
    db: sessionmaker[Session], who: Actor, key_id: uuid.UUID | str, owner_id: uuid.UUID | None
) -> ApiKey:
    """Revoke a key (idempotent); it stops working with the next request."""
    with transaction(db) as session:
        key = key_in(session, key_id, owner_id)
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            append(
                session,
                who,
                "key.revoked",
                target_type="api_key",
                target_id=str(key.id),
                details={"owner": str(key.user_id), "name": key.name},
            )
        return key


def authenticate_key(session: Session, plaintext: str) -> tuple[ApiKey, User]:
    """The live key and its active owner for ``plaintext``, else 401."""
    match = KEY_PATTERN.fullmatch(plaintext)
    if match is None:
        raise AuthenticationError(INVALID_KEY)
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == match.group(1)))
    now = utcnow()
    if (
        key is None
        or not hmac.compare_digest(key.key_hash, key_digest(plaintext))
        or key.revoked_at is not None
        or (key.expires_at is not None and key.expires_at <= now)
    ):
        raise AuthenticationError(INVALID_KEY)
    owner = session.get(User, key.user_id)
    if owner is None or not owner.is_active:
        raise AuthenticationError(INVALID_KEY)
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        key.last_used_at = now
    return key, owner
