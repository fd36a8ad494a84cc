"""``cift users``, ``cift keys`` and ``cift audit`` from the command line, on the
embedded SQLite database and on PostgreSQL."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cift.audit.chain import Actor
from cift.cli.app import app
from cift.core.errors import AuthenticationError
from cift.core.settings import load_settings
from cift.db.engine import create_db_engine, session_factory
from cift.identity.keys import KEY_PATTERN
from cift.identity.users import login
from tests.security.conftest import PASSWORD

runner = CliRunner()


@pytest.fixture(autouse=True, params=["sqlite", "postgresql"])
def _metadata_database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast password hashing; the metadata database of each run (PostgreSQL: a fresh one)."""
    monkeypatch.setenv("CIFT_ARGON2_MEMORY_KIB", "8192")
    monkeypatch.setenv("CIFT_ARGON2_TIME_COST", "1")
    if request.param == "postgresql":
        monkeypatch.setenv("CIFT_DATABASE_URL", request.getfixturevalue("postgres_database"))


def cift(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_first_admin_users_and_roles() -> None:
    cift(
        "users",
        "create",
        "root",
        "--email",
        "root@example.com",
        "--admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    cift(
        "users",
        "create",
        "bob",
        "--email",
        "bob@example.com",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    listed = {u["username"]: u for u in json.loads(cift("users", "ls", "--json"))}
    assert listed["root"]["role"] == "admin"
    assert listed["bob"]["role"] == "viewer"
    cift("users", "set-role", "bob", "trader")
    cift("users", "disable", "bob@example.com")
    listed = {u["username"]: u for u in json.loads(cift("users", "ls", "--json"))}
    assert (listed["bob"]["role"], listed["bob"]["active"]) == ("trader", False)


def test_weak_password_and_bad_role_fail_cleanly() -> None:
    weak = runner.invoke(
        app,
        ["users", "create", "eve", "--email", "e@example.com", "--password-stdin"],
        input="short\n",
    )
    assert weak.exit_code == 2
    assert "at least 12" in weak.output
    bad = runner.invoke(
        app,
        ["users", "create", "eve", "--email", "e@example.com", "--role", "god", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert bad.exit_code == 2
    assert "Unknown role 'god'" in bad.output


def test_keys_create_ls_revoke_and_the_audit_trail() -> None:
    cift(
        "users",
        "create",
        "ann",
        "--email",
        "ann@example.com",
        "--role",
        "trader",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    created = json.loads(
        cift(
            "keys",
            "create",
            "--user",
            "ann",
            "--name",
            "nb",
            "--scopes",
            "read,trade",
            "--expires-days",
            "30",
            "--json",
        )
    )
    assert KEY_PATTERN.fullmatch(created["key"])
    assert created["scopes"] == ["read", "trade"]
    too_much = runner.invoke(
        app, ["keys", "create", "--user", "ann", "--name", "x", "--scopes", "admin"]
    )
    assert too_much.exit_code == 2
    assert "cannot hold keys with scope admin" in too_much.output
    listed = json.loads(cift("keys", "ls", "--user", "ann", "--json"))
    assert [k["prefix"] for k in listed] == [created["prefix"]]
    assert "key" not in listed[0]
    assert created["key"] not in cift("keys", "ls")
    cift("keys", "revoke", created["prefix"])
    assert json.loads(cift("keys", "ls", "--json"))[0]["revoked_at"] is not None

    tail = json.loads(cift("audit", "tail", "-n", "2", "--json"))
    assert [e["action"] for e in tail] == ["key.created", "key.revoked"]
    assert tail[0]["actor"].startswith("cli:")
    verified = json.loads(cift("audit", "verify", "--json"))
    assert verified["intact"] is True
    assert verified["rows"] == 3
    assert "audit chain intact: 3 rows" in cift("audit", "verify")


def test_a_password_for_the_local_user_lets_it_sign_in() -> None:
    settings = load_settings()
    engine = create_db_engine(settings)
    db = session_factory(engine)
    cift("db", "upgrade")
    with pytest.raises(AuthenticationError):
        login(db, settings, Actor(None, "tests"), "local", PASSWORD)
    said = cift("users", "password", "local", "--password-stdin", stdin=PASSWORD + "\n")
    assert "password set for local" in said
    assert login(db, settings, Actor(None, "tests"), "local", PASSWORD).username == "local"
    weak = runner.invoke(app, ["users", "password", "local", "--password-stdin"], input="short\n")
    assert weak.exit_code == 2
    assert "at least 12" in weak.output
    actions = [e["action"] for e in json.loads(cift("audit", "tail", "--json"))]
    assert "auth.password_set" in actions
    engine.dispose()
