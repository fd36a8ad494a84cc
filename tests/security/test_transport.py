"""Rate limits (in-process and on the real Redis), security headers, body size limits,
and the audit entries of requests that change something."""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cift.api.app import create_app
from cift.api.middleware.headers import API_CSP, DOCS_CSP, HSTS, REPORT_CSP
from cift.api.middleware.ratelimit import Limit, MemoryRateLimiter, RedisRateLimiter
from cift.core.settings import Settings
from cift.db.models import AuditEntry, Role
from tests.api.conftest import auth_headers
from tests.conftest import SettingsFactory
from tests.schema import migrated
from tests.security.conftest import FAST_HASHING, PASSWORD

SYSTEM = "/api/v1/system"


@pytest.fixture
def settings_for(make_settings: SettingsFactory):  # type: ignore[no-untyped-def]
    def factory(**overrides: object) -> Settings:
        return migrated(make_settings(**{**FAST_HASHING, **overrides}))

    return factory


@pytest.fixture
def limited(settings_for) -> Iterator[tuple[FastAPI, TestClient, dict[str, str]]]:  # type: ignore[no-untyped-def]
    app = create_app(settings_for(rate_limit_read_per_minute=3))
    with TestClient(app) as client:
        yield app, client, auth_headers(app)


def test_reads_beyond_the_limit_get_429_with_headers(limited) -> None:  # type: ignore[no-untyped-def]
    app, client, headers = limited
    remaining = []
    began = time.monotonic()
    for _ in range(3):
        answer = client.get(SYSTEM, headers=headers)
        assert answer.status_code == 200
        assert answer.headers["ratelimit-limit"] == "3"
        remaining.append(int(answer.headers["ratelimit-remaining"]))
    assert remaining == [2, 1, 0]
    refused = client.get(SYSTEM, headers=headers)
    waited = time.monotonic() - began
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    # one token comes back every 60 / 3 = 20 seconds, less the time the requests took
    assert 20 - math.ceil(waited) <= int(refused.headers["retry-after"]) <= 20
    assert refused.headers["ratelimit-remaining"] == "0"
    assert int(refused.headers["ratelimit-reset"]) > 0
    # another user has a bucket of their own
    other = auth_headers(app, "other", Role.VIEWER)
    assert client.get(SYSTEM, headers=other).status_code == 200


def test_client_ip_limit_covers_every_route(settings_for) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(create_app(settings_for(rate_limit_ip_per_minute=2)))
    began = time.monotonic()
    assert client.get("/health/live").status_code == 200
    assert client.get("/api/v1/no/such/route").status_code == 404
    refused = client.get("/health/live")
    waited = time.monotonic() - began
    assert refused.status_code == 429
    # A token every 30 s, refilling since the first request: the wait is 30 s less the
    # time these requests took (seconds on a loaded machine), rounded up.
    assert 30 - math.ceil(waited) <= int(refused.headers["retry-after"]) <= 30


def test_login_attempts_are_limited_per_ip(settings_for) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(create_app(settings_for(rate_limit_auth_per_minute=2)))
    body = {"username": "nobody", "password": PASSWORD}
    assert [client.post("/api/v1/auth/login", json=body).status_code for _ in range(3)] == [
        401,
        401,
        429,
    ]


@pytest.mark.redis
def test_two_app_instances_share_one_limit_in_redis(settings_for, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(redis_url=redis_url, rate_limit_read_per_minute=4)
    first, second = create_app(settings), create_app(settings)
    headers = auth_headers(first)
    one, two = TestClient(first), TestClient(second)
    codes = [c.get(SYSTEM, headers=headers).status_code for c in (one, two, one, two)]
    assert codes == [200, 200, 200, 200]
    refused = two.get(SYSTEM, headers=headers)
    assert refused.status_code == 429
    assert one.get(SYSTEM, headers=headers).status_code == 429
    assert int(refused.headers["retry-after"]) >= 14


@pytest.mark.redis
def test_redis_buckets_are_atomic_under_concurrency(redis_url: str) -> None:
    limiter = RedisRateLimiter(redis_url, 2.0)
    bucket = [(f"test:{uuid.uuid4()}", Limit(20))]
    allowed = []
    begin = time.monotonic()

    def hammer() -> None:
        for _ in range(10):
            allowed.append(limiter.hit(bucket).allowed)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refills = (time.monotonic() - begin) * 20 / 60  # tokens that may have come back meanwhile
    assert 20 <= sum(allowed) <= 20 + int(refills) + 1
    assert len(allowed) == 80


@pytest.mark.redis
def test_memory_and_redis_buckets_agree(redis_url: str) -> None:
    key = f"test:{uuid.uuid4()}"
    limit = Limit(5)
    memory, shared = MemoryRateLimiter(), RedisRateLimiter(redis_url, 2.0)
    local = [memory.hit([(key, limit)]) for _ in range(7)]
    remote = [shared.hit([(key, limit)]) for _ in range(7)]
    assert [d.allowed for d in local] == [d.allowed for d in remote] == [True] * 5 + [False] * 2
    assert [d.remaining for d in local] == [d.remaining for d in remote] == [4, 3, 2, 1, 0, 0, 0]


def test_security_headers(settings_for) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings_for())
    client = TestClient(app, headers=auth_headers(app))
    answer = client.get(SYSTEM)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["content-security-policy"] == API_CSP
    assert "strict-transport-security" not in answer.headers
    assert client.get("/docs").headers["content-security-policy"] == DOCS_CSP
    missing = client.get(f"/api/v1/backtests/{uuid.uuid4()}/report")
    assert missing.headers["x-frame-options"] == "DENY"  # errors are hardened too
    tls = TestClient(app, base_url="https://testserver", headers=auth_headers(app, "t2"))
    assert tls.get(SYSTEM).headers["strict-transport-security"] == HSTS
    assert "script-src 'unsafe-inline'" in REPORT_CSP
    assert "connect-src" not in REPORT_CSP  # default-src 'none': a report sends nothing


def test_oversized_bodies_get_413(settings_for) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings_for(max_body_bytes=2048))
    client = TestClient(app, headers=auth_headers(app))
    big = {"strategy": "sma_cross", "symbols": ["X"], "name": "x" * 5000}
    declared = client.post("/api/v1/backtests", json=big)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"
    assert "CIFT_MAX_BODY_BYTES" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:
        yield b'{"strategy": "sma_cross", "symbols": ["X"], "name": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    streamed = client.post(
        "/api/v1/backtests", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["code"] == "payload_too_large"


def test_mutating_requests_and_security_events_are_audited(settings_for) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings_for())
    admin = auth_headers(app, "root", Role.ADMIN)
    viewer = auth_headers(app, "vic", Role.VIEWER)
    client = TestClient(app)
    bad = client.post(
        "/api/v1/backtests", json={"nope": 1}, headers={**admin, "X-Request-ID": "r-1"}
    )
    assert bad.status_code == 422
    denied = client.post("/api/v1/backtests", json={}, headers={**viewer, "X-Request-ID": "r-2"})
    assert denied.status_code == 403
    anonymous = client.post("/api/v1/backtests", json={}, headers={"X-Request-ID": "r-3"})
    assert anonymous.status_code == 401
    login = client.post(
        "/api/v1/auth/login",
        json={"username": "root", "password": PASSWORD},
        headers={"X-Request-ID": "r-4"},
    )
    assert login.status_code == 200
    with app.state.cift.db() as session:
        entries = {e.request_id: e for e in session.scalars(select(AuditEntry))}
    assert (entries["r-1"].action, entries["r-1"].outcome.value) == (
        "POST /api/v1/backtests",
        "failure",
    )
    assert entries["r-1"].actor.startswith("root (key ")
    assert entries["r-1"].client_ip == "testclient"
    assert entries["r-1"].details["status"] == 422
    assert (entries["r-2"].outcome.value, entries["r-2"].actor_user_id is not None) == (
        "denied",
        True,
    )
    assert (entries["r-3"].actor, entries["r-3"].outcome.value) == ("anonymous", "denied")
    assert entries["r-4"].action == "auth.login"  # the precise event, not a second entry
    with app.state.cift.db() as session:
        assert (
            len(session.scalars(select(AuditEntry).where(AuditEntry.request_id == "r-4")).all())
            == 1
        )
    listed = client.get("/api/v1/audit", params={"limit": 3}, headers=admin).json()
    assert [e["seq"] for e in listed] == sorted((e["seq"] for e in listed), reverse=True)
    assert listed[0]["action"] == "auth.login"
    assert client.get("/api/v1/audit/verify", headers=admin).json()["intact"] is True
    assert client.get("/api/v1/audit", headers=viewer).status_code == 403
