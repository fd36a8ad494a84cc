"""Users: Argon2id hashes, the password policy, login with lockout, roles, disabling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cift.audit import Actor
from cift.core.errors import AuthenticationError, ConflictError, ValidationError
from cift.core.settings import Settings
from cift.db.base import utcnow
from cift.db.models import AuditEntry, AuditOutcome, Role, User
from cift.identity import passwords, users
from tests.conftest import SettingsFactory
from tests.security.conftest import FAST_HASHING, PASSWORD, ROBOT, make_user

CLIENT = Actor(None, "anonymous", client_ip="203.0.113.9", request_id="req-1")


def _actions(db: sessionmaker[Session]) -> list[tuple[str, str]]:
    with db() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
        return [(r.action, r.outcome.value) for r in rows]


def test_hash_is_argon2id_with_the_configured_parameters(settings: Settings) -> None:
    stored = passwords.hash_password(settings, PASSWORD)
    params = extract_parameters(stored)
    assert stored.startswith("$argon2id$v=19$")
    assert (params.type, params.memory_cost, params.time_cost) == (Type.ID, 8192, 1)
    assert params.parallelism == settings.argon2_parallelism
    # an independent verifier accepts it; a wrong password is refused
    assert PasswordHasher().verify(stored, PASSWORD)
    assert passwords.verify_password(settings, stored, PASSWORD)
    assert not passwords.verify_password(settings, stored, PASSWORD + "!")
    assert not passwords.verify_password(settings, "!", PASSWORD)


def test_default_parameters_follow_rfc_9106(make_settings: SettingsFactory) -> None:
    params = extract_parameters(passwords.hash_password(make_settings(), PASSWORD))
    assert (params.memory_cost, params.time_cost, params.parallelism) == (65536, 3, 4)


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("short-one", "at least 12"),
        ("aaaaaaaaaaaaaaaaaaab", "different characters"),
        ("my-name-is-ada-lovelace", "username"),
        ("x" * 1025, "longer than"),
    ],
)
def test_password_policy(settings: Settings, password: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        passwords.check_policy(settings, password, username="ada", email="ada@example.com")


def test_create_list_and_refuse_duplicates(db: sessionmaker[Session], settings: Settings) -> None:
    ada = make_user(db, settings, "ada", Role.ADMIN)
    assert ada.role is Role.ADMIN
    assert ada.is_active
    with pytest.raises(ConflictError):
        make_user(db, settings, "ada")
    with pytest.raises(ValidationError, match="reserved"):
        make_user(db, settings, "local")
    with pytest.raises(ValidationError, match="not allowed"):
        make_user(db, settings, "Bad Name")
    assert [u.username for u in users.list_users(db)] == ["ada"]
    assert _actions(db) == [("user.created", "success")]


def test_login_rehashes_when_parameters_change(
    db: sessionmaker[Session], settings: Settings, make_settings: SettingsFactory
) -> None:
    make_user(db, settings, "ada")
    stronger = make_settings(argon2_memory_kib=16384, argon2_time_cost=2)
    user = users.login(db, stronger, CLIENT, "ada", PASSWORD)
    with db() as session:
        stored = session.get_one(User, user.id).password_hash
    params = extract_parameters(stored)
    assert (params.memory_cost, params.time_cost) == (16384, 2)
    assert users.login(db, settings, CLIENT, "ADA@example.com", PASSWORD).id == user.id


def test_lockout_after_repeated_failures_and_its_expiry(
    db: sessionmaker[Session], make_settings: SettingsFactory
) -> None:
    settings = make_settings(login_max_failures=3, lockout_minutes=10, **FAST_HASHING)
    make_user(db, settings, "ada")
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            users.login(db, settings, CLIENT, "ada", "wrong password here")
    with db() as session:
        locked = session.scalars(select(User)).one()
        assert locked.locked_until is not None
        assert locked.locked_until - utcnow() > timedelta(minutes=9)
    with pytest.raises(AuthenticationError):  # the right password is refused while locked
        users.login(db, settings, CLIENT, "ada", PASSWORD)
    with db() as session, session.begin():
        session.scalars(select(User)).one().locked_until = utcnow() - timedelta(seconds=1)
    assert users.login(db, settings, CLIENT, "ada", PASSWORD).username == "ada"
    with db() as session:
        assert session.scalars(select(User)).one().locked_until is None
    actions = _actions(db)
    assert actions.count(("auth.login", "failure")) == 4
    assert ("auth.lockout", "denied") in actions
    assert actions[-1] == ("auth.login", "success")
    with db() as session:
        failures = session.scalars(select(AuditEntry).where(AuditEntry.outcome == "failure"))
        assert {f.details["reason"] for f in failures} == {"wrong_password", "locked"}
        assert {f.client_ip for f in session.scalars(select(AuditEntry))} >= {"203.0.113.9"}


def test_unknown_user_and_disabled_user_cannot_log_in(
    db: sessionmaker[Session], settings: Settings
) -> None:
    make_user(db, settings, "ada")
    with pytest.raises(AuthenticationError, match="Wrong username or password"):
        users.login(db, settings, CLIENT, "nobody", PASSWORD)
    users.set_active(db, ROBOT, "ada", active=False)
    with pytest.raises(AuthenticationError):
        users.login(db, settings, CLIENT, "ada", PASSWORD)
    users.set_active(db, ROBOT, "ada", active=True)
    assert users.login(db, settings, CLIENT, "ada", PASSWORD).is_active


def test_role_change_is_audited(db: sessionmaker[Session], settings: Settings) -> None:
    ada = make_user(db, settings, "ada", Role.VIEWER)
    assert users.set_role(db, ROBOT, str(ada.id), Role.TRADER).role is Role.TRADER
    with db() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None
    assert (entry.action, entry.details) == (
        "user.role_changed",
        {"from": "viewer", "to": "trader"},
    )
    assert entry.outcome is AuditOutcome.SUCCESS


def test_the_last_admin_cannot_demote_or_disable_themselves(
    any_db: sessionmaker[Session], any_db_settings: Settings
) -> None:
    root = make_user(any_db, any_db_settings, "root", Role.ADMIN)
    with pytest.raises(ConflictError, match="last active admin"):
        users.set_role(any_db, ROBOT, str(root.id), Role.TRADER)
    with pytest.raises(ConflictError, match="last active admin"):
        users.set_active(any_db, ROBOT, str(root.id), False)
    assert users.set_role(any_db, ROBOT, str(root.id), Role.ADMIN).role is Role.ADMIN
    ada = make_user(any_db, any_db_settings, "ada", Role.ADMIN)
    assert users.set_role(any_db, ROBOT, str(root.id), Role.VIEWER).role is Role.VIEWER
    with pytest.raises(ConflictError, match="ada is the last active admin"):
        users.set_active(any_db, ROBOT, str(ada.id), False)
    with any_db() as session:
        stored = {u.username: (u.role, u.is_active) for u in session.scalars(select(User))}
    assert stored["ada"] == (Role.ADMIN, True)
    assert stored["root"] == (Role.VIEWER, True)


def test_password_change_checks_the_current_password(
    db: sessionmaker[Session], settings: Settings
) -> None:
    ada = make_user(db, settings, "ada")
    new = "a much better passphrase 7"
    with pytest.raises(AuthenticationError, match="current password"):
        users.change_password(db, settings, ROBOT, ada.id, "not it at all", new)
    with pytest.raises(ValidationError):
        users.change_password(db, settings, ROBOT, ada.id, PASSWORD, "short")
    users.change_password(db, settings, ROBOT, ada.id, PASSWORD, new)
    with pytest.raises(AuthenticationError):
        users.login(db, settings, CLIENT, "ada", PASSWORD)
    assert users.login(db, settings, CLIENT, "ada", new).id == ada.id
