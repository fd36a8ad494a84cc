"""Sign-in, JWT access tokens, rotating refresh tokens, lockout and token tampering."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cift.audit import Actor
from cift.db.models import AuditEntry, AuthSession, Role, User
from cift.identity import tokens, users
from tests.api.conftest import PASSWORD, AppFactory

ME = "/api/v1/auth/me"


def _create(app: FastAPI, name: str = "ada", role: Role = Role.TRADER) -> User:
    state = app.state.cift
    return users.create_user(
        state.db,
        state.settings,
        Actor(None, "tests"),
        username=name,
        email=f"{name}@example.com",
        password=PASSWORD,
        role=role,
    )


def _login(client: TestClient, name: str = "ada", password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def app(backend_app: FastAPI) -> FastAPI:
    """These tests run on SQLite and on PostgreSQL."""
    return backend_app


@pytest.fixture
def anon(app: FastAPI) -> Iterator[TestClient]:
    _create(app)
    with TestClient(app) as client:  # the lifespan closes the app's engine after
        yield client


def test_login_gives_tokens_that_open_the_api(anon: TestClient) -> None:
    pair = _login(anon)
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == 15 * 60
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert set(claims) >= {"exp", "iat", "sub", "jti", "aud", "iss", "sid"}
    assert claims["exp"] - claims["iat"] == 15 * 60
    me = anon.get(ME, headers=_bearer(pair["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "ada"
    assert me.json()["scopes"] == ["read", "trade"]
    assert me.json()["credential"] == "session"
    assert me.headers["cache-control"] == "no-store"


def test_missing_or_wrong_credentials_are_401_problems(anon: TestClient) -> None:
    missing = anon.get(ME)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert "X-API-Key" in missing.json()["detail"]
    wrong = anon.post("/api/v1/auth/login", json={"username": "ada", "password": "nope" * 4})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "authentication"
    unknown = anon.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD})
    assert unknown.json()["detail"] == wrong.json()["detail"]


def test_refresh_rotates_and_reuse_revokes_the_family(anon: TestClient, app: FastAPI) -> None:
    first = _login(anon)
    second = anon.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    pair = second.json()
    assert pair["refresh_token"] != first["refresh_token"]
    assert anon.get(ME, headers=_bearer(pair["access_token"])).status_code == 200
    # the first refresh token, used again, is a stolen copy: the whole login ends
    reused = anon.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert anon.get(ME, headers=_bearer(pair["access_token"])).status_code == 401
    assert anon.get(ME, headers=_bearer(first["access_token"])).status_code == 401
    again = anon.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 401
    with app.state.cift.db() as session:
        rows = session.scalars(select(AuthSession)).all()
        reasons = sorted(str(r.revoked_reason) for r in rows)
        actions = session.scalars(select(AuditEntry.action)).all()
    assert reasons == ["refresh_reuse", "rotated"]
    assert "auth.refresh_reuse" in actions
    # a fresh login is unaffected
    assert anon.get(ME, headers=_bearer(_login(anon)["access_token"])).status_code == 200


def test_logout_revokes_at_once(anon: TestClient) -> None:
    pair = _login(anon)
    other = _login(anon)
    assert (
        anon.post("/api/v1/auth/logout", headers=_bearer(pair["access_token"])).status_code == 204
    )
    assert anon.get(ME, headers=_bearer(pair["access_token"])).status_code == 401
    refresh = anon.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refresh.status_code == 401
    assert anon.get(ME, headers=_bearer(other["access_token"])).status_code == 200


def test_password_change_revokes_every_session(anon: TestClient) -> None:
    one, two = _login(anon), _login(anon)
    new = "an entirely new passphrase 42"
    wrong = anon.post(
        "/api/v1/auth/password",
        json={"current_password": "not the password", "new_password": new},
        headers=_bearer(one["access_token"]),
    )
    assert wrong.status_code == 401
    changed = anon.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": new},
        headers=_bearer(one["access_token"]),
    )
    assert changed.status_code == 204
    for pair in (one, two):
        assert anon.get(ME, headers=_bearer(pair["access_token"])).status_code == 401
        body = {"refresh_token": pair["refresh_token"]}
        assert anon.post("/api/v1/auth/refresh", json=body).status_code == 401
    assert _login(anon, password=new)["access_token"]


def _segment(data: dict[str, object]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, object]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def test_tampered_tokens_are_refused(anon: TestClient, app: FastAPI) -> None:
    token = _login(anon)["access_token"]
    key = tokens.signing_key(app.state.cift.settings)
    claims = _claims(token)
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    now = int(datetime.now(UTC).timestamp())
    other_user = {**claims, "sub": str(uuid.uuid4())}
    forged = {
        "changed signature": f"{header}.{payload}.{flipped}",
        "changed payload": f"{header}.{_segment({**claims, 'sub': str(uuid.uuid4())})}.{signature}",
        "alg none": f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "other key": jwt.encode(claims, "another secret of 32 bytes or more!!", algorithm="HS256"),
        "HS512": jwt.encode(claims, key * 2, algorithm="HS512"),
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, key, "HS256"),
        "wrong audience": jwt.encode({**claims, "aud": "someone-else"}, key, "HS256"),
        "wrong issuer": jwt.encode({**claims, "iss": "evil"}, key, "HS256"),
        "no jti": jwt.encode({k: v for k, v in claims.items() if k != "jti"}, key, "HS256"),
        "no exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, key, "HS256"),
        "issued in the future": jwt.encode({**claims, "iat": now + 3600}, key, "HS256"),
        "unknown user": jwt.encode(other_user, key, "HS256"),
        "not a jwt": "abc.def",
    }
    for name, bad in forged.items():
        response = anon.get(ME, headers=_bearer(bad))
        assert response.status_code == 401, name
    assert anon.get(ME, headers=_bearer(token)).status_code == 200


def test_lockout_and_its_expiry_over_http(make_app: AppFactory) -> None:
    app = make_app(login_max_failures=3, lockout_minutes=15)
    _create(app)
    client = TestClient(app)
    for _ in range(3):
        bad = client.post("/api/v1/auth/login", json={"username": "ada", "password": "x" * 12})
        assert bad.status_code == 401
    locked = client.post("/api/v1/auth/login", json={"username": "ada", "password": PASSWORD})
    assert locked.status_code == 401
    with app.state.cift.db() as session, session.begin():
        user = session.scalars(select(User)).one()
        assert user.locked_until is not None
        user.locked_until = datetime.now(UTC) - timedelta(seconds=1)
    assert _login(client)["access_token"]
    with app.state.cift.db() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    logins = [
        (e.action, e.outcome.value, e.client_ip) for e in entries if e.action.startswith("auth")
    ]
    assert ("auth.lockout", "denied", "testclient") in logins
    assert logins[-1] == ("auth.login", "success", "testclient")
    assert all(e.request_id for e in entries if e.action.startswith("auth"))


def test_disabled_user_loses_access_at_once(anon: TestClient, app: FastAPI) -> None:
    pair = _login(anon)
    users.set_active(app.state.cift.db, Actor(None, "tests"), "ada", active=False)
    assert anon.get(ME, headers=_bearer(pair["access_token"])).status_code == 401
    body = {"refresh_token": pair["refresh_token"]}
    assert anon.post("/api/v1/auth/refresh", json=body).status_code == 401


def test_signup_only_when_allowed(make_app: AppFactory) -> None:
    body = {"username": "newbie", "email": "newbie@example.com", "password": PASSWORD}
    closed = TestClient(make_app()).post("/api/v1/auth/signup", json=body)
    assert closed.status_code == 403
    client = TestClient(make_app(signup_allowed=True))
    created = client.post("/api/v1/auth/signup", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "viewer"
    assert client.post("/api/v1/auth/signup", json=body).status_code == 409
    weak = client.post("/api/v1/auth/signup", json={**body, "username": "x2", "password": "abc"})
    assert weak.status_code == 422
    assert _login(client, "newbie")["access_token"]
