"""API keys over HTTP: shown once, both headers, scopes, revocation, expiry, ownership."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cift.audit import Actor
from cift.db.models import ApiKey, AuditEntry, Role
from cift.identity import users
from tests.api.conftest import PASSWORD

KEYS = "/api/v1/keys"
ME = "/api/v1/auth/me"


def _session(app: FastAPI, client: TestClient, name: str, role: Role) -> dict[str, str]:
    state = app.state.cift
    users.create_user(
        state.db,
        state.settings,
        Actor(None, "tests"),
        username=name,
        email=f"{name}@example.com",
        password=PASSWORD,
        role=role,
    )
    login = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture
def app(backend_app: FastAPI) -> FastAPI:
    """These tests run on SQLite and on PostgreSQL."""
    return backend_app


@pytest.fixture
def anon(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:  # the lifespan closes the app's engine after
        yield client


def _new_key(client: TestClient, session: dict[str, str], **body: object) -> dict[str, object]:
    response = client.post(KEYS, json={"name": "nb", "scopes": ["read"], **body}, headers=session)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_key_is_shown_once_and_works_in_both_headers(app: FastAPI, anon: TestClient) -> None:
    ada = _session(app, anon, "ada", Role.TRADER)
    created = _new_key(anon, ada, scopes=["read", "trade"])
    key = str(created["key"])
    assert key.startswith(f"cift_{created['prefix']}_")
    listed = anon.get(KEYS, headers=ada).json()
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    assert key not in anon.get(f"{KEYS}/{created['id']}", headers=ada).text
    with app.state.cift.db() as session:
        stored = session.scalars(select(ApiKey)).one()
        assert key not in (stored.key_hash, stored.prefix)
        assert stored.last_used_at is None
    for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        me = anon.get(ME, headers=headers)
        assert me.status_code == 200, me.text
        assert me.json()["credential"] == "api_key"
        assert me.json()["scopes"] == ["read", "trade"]
    with app.state.cift.db() as session:
        assert session.scalars(select(ApiKey)).one().last_used_at is not None
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "key.created" in actions


@pytest.mark.parametrize("garbage", ["garbage", "Basic YTpi", "Bearer", "Token abc"])
def test_a_malformed_authorization_header_is_refused_beside_a_valid_key(
    app: FastAPI, anon: TestClient, garbage: str
) -> None:
    ada = _session(app, anon, "ada", Role.TRADER)
    key = str(_new_key(anon, ada)["key"])
    answer = anon.get(ME, headers={"X-API-Key": key, "Authorization": garbage})
    assert answer.status_code == 401
    assert "Authorization header" in answer.json()["detail"]
    assert anon.get(ME, headers={"X-API-Key": key}).status_code == 200


def test_revocation_takes_effect_at_once(app: FastAPI, anon: TestClient) -> None:
    ada = _session(app, anon, "ada", Role.VIEWER)
    created = _new_key(anon, ada)
    headers = {"X-API-Key": str(created["key"])}
    assert anon.get(ME, headers=headers).status_code == 200
    revoked = anon.delete(f"{KEYS}/{created['id']}", headers=ada)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert anon.get(ME, headers=headers).status_code == 401


def test_expired_and_malformed_keys_are_refused(app: FastAPI, anon: TestClient) -> None:
    ada = _session(app, anon, "ada", Role.VIEWER)
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    created = _new_key(anon, ada, expires_at=soon)
    headers = {"X-API-Key": str(created["key"])}
    assert anon.get(ME, headers=headers).status_code == 200
    with app.state.cift.db() as session, session.begin():
        session.scalars(select(ApiKey)).one().expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert anon.get(ME, headers=headers).status_code == 401
    key = str(created["key"])
    for bad in (key[:-1] + ("A" if key[-1] != "A" else "B"), "cift_nope", "x" * 50):
        assert anon.get(ME, headers={"X-API-Key": bad}).status_code == 401
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    response = anon.post(
        KEYS, json={"name": "old", "scopes": ["read"], "expires_at": past}, headers=ada
    )
    assert response.status_code == 422


def test_scopes_are_capped_by_role_and_enforced(app: FastAPI, anon: TestClient) -> None:
    viewer = _session(app, anon, "vic", Role.VIEWER)
    beyond = anon.post(KEYS, json={"name": "x", "scopes": ["trade"]}, headers=viewer)
    assert beyond.status_code == 422
    assert "cannot hold keys with scope trade" in beyond.json()["detail"]
    trader = _session(app, anon, "tom", Role.TRADER)
    read_only = {"X-API-Key": str(_new_key(anon, trader)["key"])}
    start = anon.post(
        "/api/v1/backtests", json={"strategy": "sma_cross", "symbols": ["X"]}, headers=read_only
    )
    assert start.status_code == 403
    assert "trade scope" in start.json()["detail"]
    # keys cannot mint keys or change the account: that needs a password login
    minted = anon.post(KEYS, json={"name": "y", "scopes": ["read"]}, headers=read_only)
    assert minted.status_code == 403
    # a role cut applies to existing keys at once
    trade_key = {
        "X-API-Key": str(_new_key(anon, trader, name="t", scopes=["read", "trade"])["key"])
    }
    assert anon.get(ME, headers=trade_key).json()["scopes"] == ["read", "trade"]
    users.set_role(app.state.cift.db, Actor(None, "tests"), "tom", Role.VIEWER)
    assert anon.get(ME, headers=trade_key).json()["scopes"] == ["read"]


def test_another_users_key_is_not_found(app: FastAPI, anon: TestClient) -> None:
    ada = _session(app, anon, "ada", Role.TRADER)
    bob = _session(app, anon, "bob", Role.TRADER)
    adas = _new_key(anon, ada)
    assert anon.get(f"{KEYS}/{adas['id']}", headers=bob).status_code == 404
    assert anon.delete(f"{KEYS}/{adas['id']}", headers=bob).status_code == 404
    assert anon.get(KEYS, headers=bob).json() == []
    assert anon.get(ME, headers={"X-API-Key": str(adas["key"])}).status_code == 200
