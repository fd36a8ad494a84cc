"""The caller's own account for the API: ``/me`` and the answer to a sign-up."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session, sessionmaker

from cift.db.models import User
from cift.identity.principal import Principal
from cift.identity.scopes import Scope, sorted_scopes
from cift.identity.users import user_in

from ..schemas.auth import Me


def account(user: User, scopes: Iterable[Scope], credential: str) -> Me:
    """``user`` as the API shows a user their own account."""
    return Me(
        id=user.id,
        username=user.username,
        email=user.email,
        full_name=user.full_name,
        role=user.role.value,
        scopes=sorted_scopes(scopes),
        credential=credential,
    )


def me(db: sessionmaker[Session], who: Principal) -> Me:
    """The signed-in caller's account, with the scopes of the credential they used."""
    with db() as session:
        return account(user_in(session, who.user_id), who.scopes, who.credential)
