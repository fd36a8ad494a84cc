"""The caller's own account for the API."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from cift.identity.principal import Principal
from cift.identity.scopes import sorted_scopes
from cift.identity.users import get_user

from ..schemas.auth import Me


def me(db: sessionmaker[Session], who: Principal) -> Me:
    with db() as session:
        user = get_user(session, who.user_id)
        return Me(
            id=user.id,
            username=user.username,
            email=user.email,
            full_name=user.full_name,
            role=user.role.value,
            scopes=sorted_scopes(who.scopes),
            credential=who.credential,
        )
