"""Schemathesis against the app's own OpenAPI document with valid credentials: no 5xx on
any route, and every answer matches its documented status, content type and schema, on
SQLite and on PostgreSQL, for valid and for invalid input; and a method a path does not
support answers 405 with an ``Allow`` header naming the documented ones.

A bounded number of examples per operation runs here; ``docs/security.md`` records a
longer run (set CIFT_FUZZ_EXAMPLES to repeat it).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from cift.api.app import create_app
from tests.api.conftest import auth_headers
from tests.budget import deep
from tests.conftest import SettingsFactory
from tests.schema import migrated
from tests.security.conftest import FAST_HASHING, PASSWORD

EXAMPLES = int(os.environ.get("CIFT_FUZZ_EXAMPLES", str(deep(2))))
CHECKS_ITS_OWN_SECRET = {
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/password",
    "POST /api/v1/auth/signup",  # closed by default: 403
}
"""Generated passwords and refresh tokens are wrong, so these only ever answer 401/403."""
BUSINESS_RULES = positive_data_acceptance
"""Excluded: a schema-valid request may still break a rule no schema states (password
policy, an unknown strategy, a range without data) and is then rightly a 422 problem."""


@pytest.fixture(params=["sqlite", "postgresql"])
def fuzzed_app(request: pytest.FixtureRequest, make_settings: SettingsFactory) -> Iterator[FastAPI]:
    """The app on SQLite, then on PostgreSQL (which refuses what SQLite stores, e.g. NUL)."""
    database: dict[str, Any] = {}
    if request.param == "postgresql":
        database["database_url"] = request.getfixturevalue("postgres_database")
    settings = make_settings(rate_limit_enabled=False, **FAST_HASHING, **database)
    app = create_app(migrated(settings))
    with TestClient(app):  # run the lifespan once, as a server would
        yield app


@pytest.fixture
def credentials(fuzzed_app: FastAPI) -> dict[str, str]:
    """The same key in both headers, so generated values of either are overridden."""
    key = auth_headers(fuzzed_app, "fuzzer")["X-API-Key"]
    return {"X-API-Key": key, "Authorization": f"Bearer {key}"}


def session_token(app: FastAPI) -> dict[str, str]:
    """A fresh signed-in session of the fuzzing user, for routes that refuse API keys."""
    answer = TestClient(app).post(
        "/api/v1/auth/login", json={"username": "fuzzer", "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def fuzz(operation: Any, headers: dict[str, str]) -> set[int]:
    """Run the bounded examples of one operation, valid ones and then invalid ones (wrong
    types, missing fields, bodies that are not JSON); the statuses seen, or the failures."""
    seen: set[int] = set()
    for mode, count in ((GenerationMode.POSITIVE, EXAMPLES), (GenerationMode.NEGATIVE, EXAMPLES)):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=count,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def examples(case: schemathesis.Case) -> None:
            answer = case.call_and_validate(headers=headers, excluded_checks=[BUSINESS_RULES])
            seen.add(answer.status_code)

        try:
            examples()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise  # an operation without inputs has no invalid ones
    return seen


def test_unsupported_methods_answer_405_with_the_documented_allow(fuzzed_app: FastAPI) -> None:
    client = TestClient(fuzzed_app)
    for template, operations in fuzzed_app.openapi()["paths"].items():
        path = re.sub(r"\{[^/]+\}", "01a23015-3155-729a-8fa9-a2df1c7abca5", template)
        documented = sorted(method.upper() for method in operations)
        for method in sorted({"OPTIONS", "TRACE", "PUT", "PATCH", "DELETE"} - set(documented)):
            answer = client.request(method, path)
            assert answer.status_code == 405, (method, path, answer.text)
            assert answer.headers["allow"] == ", ".join(documented), (method, path)
            assert answer.headers["content-type"] == "application/problem+json"


def test_api_answers_as_documented(fuzzed_app: FastAPI, credentials: dict[str, str]) -> None:
    api = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    failures: dict[str, str] = {}
    statuses: dict[str, set[int]] = {}
    for result in api.get_all_operations():
        operation = result.ok()
        security = operation.definition.raw.get("security") or []
        session_only = {name for req in security for name in req} == {"session"}
        headers = session_token(fuzzed_app) if session_only else credentials
        try:
            statuses[operation.label] = fuzz(operation, headers)
        except (AssertionError, BaseExceptionGroup) as exc:  # every operation's failures
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
    assert len(statuses) >= 30
    # the credentials get through: every operation answered past authorization at least once
    refused = {op for op, seen in statuses.items() if not seen - {401, 403}}
    assert refused <= CHECKS_ITS_OWN_SECRET
