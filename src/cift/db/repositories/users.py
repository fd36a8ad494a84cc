"""The local user: owner of what is done from this machine's CLI without signing in."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cift.db.models import Role, User

LOCAL_USERNAME = "local"
LOCKED_HASH = "!"  # matches no password: no sign-in until `cift users password local`


def local_user_id(session: Session) -> uuid.UUID:
    """The id of the ``local`` user, created on first use."""
    found = session.scalar(select(User.id).where(User.username == LOCAL_USERNAME))
    if found is not None:
        return found
    user = User(
        username=LOCAL_USERNAME,
        email="local@localhost",
        full_name="Local command line",
        password_hash=LOCKED_HASH,
        role=Role.ADMIN,
    )
    session.add(user)
    session.flush()
    return user.id
