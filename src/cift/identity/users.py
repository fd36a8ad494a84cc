"""Users: creation, listing, roles, disabling, login with lockout, password change."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from cift.audit import Actor, append
from cift.core.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from cift.core.settings import Settings
from cift.db.base import utcnow
from cift.db.engine import transaction
from cift.db.models import AuditOutcome, Role, User
from cift.db.repositories.users import LOCAL_USERNAME
from cift.model.fields import EMAIL_PATTERN

from . import passwords
from .tokens import revoke_user_sessions

Sessions = sessionmaker[Session]
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
EMAIL = re.compile(EMAIL_PATTERN)
LOGIN_FAILED = (
    "Wrong username or password, or the account is disabled or locked for a while after "
    "repeated failures."
)
_DUMMY_HASH: dict[str, str] = {}


def create_user(
    db: Sessions,
    settings: Settings,
    who: Actor,
    *,
    username: str,
    email: str,
    password: str,
    role: Role = Role.VIEWER,
    full_name: str | None = None,
) -> User:
    """A new active user; the password must meet the policy."""
    username, email = username.strip().lower(), email.strip().lower()
    if not USERNAME.fullmatch(username) or username == LOCAL_USERNAME:
        raise ValidationError(
            f"Username {username!r} is not allowed; use 2-64 characters: lowercase letters, "
            "digits, '.', '_' or '-', starting with a letter or digit ('local' is reserved)."
        )
    if not EMAIL.fullmatch(email) or len(email) > 320:
        raise ValidationError(f"{email!r} is not an e-mail address.")
    passwords.check_policy(settings, password, username=username, email=email)
    password_hash = passwords.hash_password(settings, password)
    with transaction(db) as session:
        clash = session.scalar(
            select(User.username).where(or_(User.username == username, User.email == email))
        )
        if clash is not None:
            raise ConflictError(f"A user with username {username!r} or e-mail {email!r} exists.")
        user = User(
            username=username,
            email=email,
            full_name=full_name,
            password_hash=password_hash,
            role=role,
            password_changed_at=utcnow(),
        )
        session.add(user)
        session.flush()
        append(
            session,
            who,
            "user.created",
            target_type="user",
            target_id=str(user.id),
            details={"username": username, "role": role.value},
        )
        return user


def list_users(db: Sessions) -> list[User]:
    with db() as session:
        return list(session.scalars(select(User).order_by(User.created_at, User.username)))


def user_in(session: Session, ident: str | uuid.UUID) -> User:
    """A user by id, username or e-mail, in ``session`` (a transaction's own)."""
    if isinstance(ident, uuid.UUID):
        user = session.get(User, ident)
    else:
        text = ident.strip().lower()
        user = session.scalar(select(User).where(or_(User.username == text, User.email == text)))
        if user is None:
            try:
                user = session.get(User, uuid.UUID(text))
            except ValueError:
                user = None
    if user is None:
        raise NotFoundError(f"No user {ident}; see 'cift users ls'.")
    return user


def get_user(db: Sessions, ident: str | uuid.UUID) -> User:
    """A user by id, username or e-mail."""
    with db() as session:
        return user_in(session, ident)


def set_active(db: Sessions, who: Actor, ident: str | uuid.UUID, active: bool) -> User:
    """Enable or disable a user; disabling ends every login session at once."""
    with transaction(db) as session:
        user = user_in(session, ident)
        _keep_an_admin(session, user, user.role, active)
        user.is_active = active
        if not active:
            revoke_user_sessions(session, user.id, "disabled")
        action = "user.enabled" if active else "user.disabled"
        append(session, who, action, target_type="user", target_id=str(user.id))
        return user


def set_role(db: Sessions, who: Actor, ident: str | uuid.UUID, role: Role) -> User:
    with transaction(db) as session:
        user = user_in(session, ident)
        _keep_an_admin(session, user, role, user.is_active)
        before = user.role
        user.role = role
        append(
            session,
            who,
            "user.role_changed",
            target_type="user",
            target_id=str(user.id),
            details={"from": before.value, "to": role.value},
        )
        return user


def _keep_an_admin(session: Session, user: User, role: Role, active: bool) -> None:
    """Refuse a change that would leave no active admin who can sign in (the ``local``
    command-line user cannot). The active admins are locked first, so two admins
    demoting each other at once cannot both succeed."""
    admins = session.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN, User.is_active.is_(True), User.username != LOCAL_USERNAME)
        .with_for_update()
    ).all()
    stays = role is Role.ADMIN and active
    if not stays and list(admins) == [user.id]:
        raise ConflictError(
            f"{user.username} is the last active admin; make another user an admin first "
            "(cift users set-role NAME admin), then change this one."
        )


def login(db: Sessions, settings: Settings, who: Actor, name: str, password: str) -> User:
    """The user these credentials belong to; failures count towards a lockout."""
    with transaction(db) as session:
        user = session.scalar(
            select(User).where(
                or_(User.username == name.strip().lower(), User.email == name.strip().lower())
            )
        )
        failure = _check_login(session, settings, who, name, user, password, utcnow())
    if failure is not None or user is None:
        raise AuthenticationError(LOGIN_FAILED)
    return user


def _check_login(
    session: Session,
    settings: Settings,
    who: Actor,
    name: str,
    user: User | None,
    password: str,
    now: datetime,
) -> str | None:
    """Record the attempt; the reason it failed, or None when it succeeded."""
    if user is None:
        passwords.verify_password(settings, _dummy_hash(settings), password)
        return _failed(session, who, None, name, "unknown_user")
    target = Actor(user.id, user.username, who.client_ip, who.request_id)
    if user.locked_until is not None and user.locked_until > now:
        return _failed(session, target, user, name, "locked")
    if not passwords.verify_password(settings, user.password_hash, password):
        user.failed_login_count += 1
        if user.failed_login_count >= settings.login_max_failures:
            user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
            user.failed_login_count = 0
            append(
                session,
                target,
                "auth.lockout",
                AuditOutcome.DENIED,
                target_type="user",
                target_id=str(user.id),
                details={"until": user.locked_until.isoformat()},
            )
        return _failed(session, target, user, name, "wrong_password")
    if not user.is_active:
        return _failed(session, target, user, name, "disabled")
    if passwords.needs_rehash(settings, user.password_hash):
        user.password_hash = passwords.hash_password(settings, password)
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    append(session, target, "auth.login", target_type="user", target_id=str(user.id))
    return None


def _failed(session: Session, who: Actor, user: User | None, name: str, reason: str) -> str:
    append(
        session,
        who,
        "auth.login",
        AuditOutcome.FAILURE,
        target_type="user",
        target_id=str(user.id) if user else name[:100],
        details={"reason": reason},
    )
    return reason


def _dummy_hash(settings: Settings) -> str:
    """A hash to verify against for unknown users, so they take as long as known ones."""
    key = f"{settings.argon2_time_cost}:{settings.argon2_memory_kib}:{settings.argon2_parallelism}"
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = passwords.hash_password(settings, uuid.uuid4().hex)
    return _DUMMY_HASH[key]


def change_password(
    db: Sessions,
    settings: Settings,
    who: Actor,
    user_id: uuid.UUID,
    current: str,
    new: str,
) -> None:
    """Replace the password after checking the current one; every session is revoked."""
    with transaction(db) as session:
        user = user_in(session, user_id)
        if not passwords.verify_password(settings, user.password_hash, current):
            append(
                session,
                who,
                "auth.password_changed",
                AuditOutcome.FAILURE,
                target_type="user",
                target_id=str(user.id),
                details={"reason": "wrong_password"},
            )
            failed = True
        else:
            passwords.check_policy(settings, new, username=user.username, email=user.email)
            user.password_hash = passwords.hash_password(settings, new)
            user.password_changed_at = utcnow()
            revoke_user_sessions(session, user.id, "password_changed")
            append(
                session, who, "auth.password_changed", target_type="user", target_id=str(user.id)
            )
            failed = False
    if failed:
        raise AuthenticationError("The current password is wrong.")


def set_password(
    db: Sessions, settings: Settings, who: Actor, ident: str | uuid.UUID, new: str
) -> User:
    """Set a user's password from this machine (a reset, or the ``local`` user's first
    one, so it may sign in to the dashboard); every session of theirs is revoked."""
    with transaction(db) as session:
        user = user_in(session, ident)
        passwords.check_policy(settings, new, username=user.username, email=user.email)
        user.password_hash = passwords.hash_password(settings, new)
        user.password_changed_at = utcnow()
        revoke_user_sessions(session, user.id, "password_set")
        append(session, who, "auth.password_set", target_type="user", target_id=str(user.id))
        return user
