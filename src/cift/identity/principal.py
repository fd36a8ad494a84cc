"""The authenticated caller of one request, from an access token or an API key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from cift.audit import Actor, bookkeeping
from cift.core.errors import AuthenticationError
from cift.core.settings import Settings
from cift.db.engine import transaction
from cift.db.models import Role, User

from . import keys, tokens
from .scopes import ROLE_SCOPES, Scope

Credential = Literal["session", "api_key"]


@dataclass(frozen=True)
class Principal:
    """Who is calling, with which credential, and the scopes it grants now."""

    user_id: uuid.UUID
    username: str
    role: Role
    scopes: frozenset[Scope]
    credential: Credential
    key_id: uuid.UUID | None = None
    family_id: uuid.UUID | None = None

    def actor(self, client_ip: str | None, request_id: str | None) -> Actor:
        name = self.username if self.key_id is None else f"{self.username} (key {self.key_id})"
        return Actor(self.user_id, name, client_ip, request_id)


def from_access_token(db: sessionmaker[Session], settings: Settings, token: str) -> Principal:
    """The user of a valid access token whose login is still alive."""
    claims = tokens.decode_access_token(settings, token)
    with db() as session:
        user = session.get(User, claims.user_id)
        if (
            user is None
            or not user.is_active
            or not tokens.family_alive(session, user.id, claims.family_id)
        ):
            raise AuthenticationError(tokens.INVALID_TOKEN)
        return Principal(
            user_id=user.id,
            username=user.username,
            role=user.role,
            scopes=ROLE_SCOPES[user.role],
            credential="session",
            family_id=claims.family_id,
        )


def from_api_key(db: sessionmaker[Session], plaintext: str) -> Principal:
    """The owner of a live API key, with the key's scopes cut to the owner's role."""
    with transaction(db) as session:
        bookkeeping(session)  # last_used_at is no change of the request's
        key, owner = keys.authenticate_key(session, plaintext)
        granted = frozenset(Scope(s) for s in key.scopes) & ROLE_SCOPES[owner.role]
        return Principal(
            user_id=owner.id,
            username=owner.username,
            role=owner.role,
            scopes=granted,
            credential="api_key",
            key_id=key.id,
        )
