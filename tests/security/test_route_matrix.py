"""Every route of the OpenAPI document, walked with two users: authentication required,
the declared scope enforced, another user's objects answered with 404.

A route is public only if listed in PUBLIC; every other operation must carry a security
requirement naming its scope, so a new route without a declared rule fails here.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from cift.api.app import create_app
from cift.audit import Actor
from cift.backtest.sweep_records import sweeps_folder
from cift.core.settings import Settings
from cift.db.models import Role, TrainingJob, User
from cift.db.repositories.backtests import BacktestRecords
from cift.execution.accounts import AccountSpec, open_account
from cift.execution.alerts import AlertSpec, create_alert
from cift.execution.oms import OrderManager
from cift.execution.requests import OrderRequest
from cift.execution.runs import start_run
from cift.identity import keys
from cift.identity.scopes import Scope
from cift.ml import tracking
from cift.ml.configurations import ModelSpec, save_configuration
from cift.ml.jobs import training_jobs
from tests.schema import migrated
from tests.security.conftest import PASSWORD, make_user

PUBLIC = {
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/refresh"),
    ("post", "/api/v1/auth/signup"),
}
"""Operations anyone may call. Adding to this set is a security decision."""
SHARED_PARAMS = {"set_id": "stored-set-1", "frame": "equity", "version": "1"}
"""Path parameters naming shared market data (readable by anyone with the read scope), or
which part of an owned object to read."""
ADMIN_PARAMS = {"user_id"}
"""Path parameters of objects only admins manage (ownership does not apply)."""
ROBOT = Actor(None, "route matrix")


def _configuration(db: Any, owner: uuid.UUID) -> Any:
    spec = {
        "name": "m",
        "model_type": "lightgbm_classifier",
        "features": ["rsi(14)"],
        "label": {"kind": "forward_return", "horizon": 5},
    }
    return save_configuration(db, owner, ModelSpec.model_validate(spec))


OWNED_FACTORIES: dict[str, Callable[[Any, uuid.UUID], Any]] = {
    "account_id": lambda db, owner: open_account(
        db, owner, AccountSpec(name=uuid.uuid4().hex, initial_cash=Decimal(10_000))
    ),
    "model_id": _configuration,
    "job_id": lambda db, owner: training_jobs(db).add(
        lambda _: TrainingJob(
            user_id=owner,
            model_configuration_id=_configuration(db, owner).id,
            kind="cv",
            request={},
        )
    ),
    "order_id": lambda db, owner: OrderManager(
        db, OWNED_FACTORIES["account_id"](db, owner).id, None
    ).submit(OrderRequest(symbol="NVDA", side=-1, quantity=Decimal(1))),
    "trading_run_id": lambda db, owner: start_run(
        db, owner, OWNED_FACTORIES["account_id"](db, owner), "sma_cross", {}, ["NVDA"], "1m", {}
    ),
    "alert_id": lambda db, owner: create_alert(
        db,
        owner,
        AlertSpec.model_validate(
            {"name": "a", "symbol": "NVDA", "condition": {"kind": "price_above", "price": 1}}
        ),
    ),
}
"""How to create an object of alice's for each owned path parameter (keys, runs and
registered models below)."""


Operation = tuple[str, str, dict[str, Any]]


@dataclass
class World:
    """Two traders (alice owns the objects, bob is the other user) and an admin."""

    app: FastAPI
    client: TestClient
    alice: User
    bob: User
    admin: User

    def session(self, user: User) -> dict[str, str]:
        answer = self.client.post(
            "/api/v1/auth/login", json={"username": user.username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def key(self, user: User, scopes: set[Scope]) -> dict[str, str]:
        _, plaintext = keys.create_key(
            self.app.state.cift.db, ROBOT, user.id, uuid.uuid4().hex[:12], scopes
        )
        return {"X-API-Key": plaintext}


def owned_object(world: World, param: str) -> str:
    """A fresh object of alice's that the path parameter ``param`` names."""
    state = world.app.state.cift
    if param in ("run_id", "ref"):  # a backtest (the lineage of one, for ref)
        spec = {"strategy": "sma_cross", "symbols": ["NVDA"]}
        return str(BacktestRecords(state.db).create(spec, 100_000.0, world.alice.id))
    if param == "name":  # a registered model in the embedded MLflow store
        name = f"m-{uuid.uuid4().hex[:8]}"
        with tracking.mlflow_at(state.settings) as mlflow:
            tracking.claim_name(mlflow, name, world.alice.id)
        return name
    if param == "sweep_id":  # a recorded sweep: the fields ownership reads
        sweep_id = uuid.uuid4()
        folder = sweeps_folder(state.settings)
        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "id": str(sweep_id), "owner": str(world.alice.id), "created_at": "2024-01-02T00:00:00Z",
            "strategy": "sma_cross", "symbols": ["NVDA"], "timeframe": "1d", "start": None,
            "end": None, "rank_by": "sharpe", "axes": ["fast"], "evaluated": 0, "skipped": 0,
            "duplicates": 0, "deflated_sharpe": None, "trials": [],
        }  # fmt: skip
        (folder / f"{sweep_id}.json").write_text(json.dumps(record))
        return str(sweep_id)
    if param == "key_id":
        key, _ = keys.create_key(
            state.db, ROBOT, world.alice.id, uuid.uuid4().hex[:12], {Scope.READ}
        )
        return str(key.id)
    if param in OWNED_FACTORIES:
        return str(OWNED_FACTORIES[param](state.db, world.alice.id).id)
    raise AssertionError(
        f"The route matrix does not know path parameter {{{param}}}: add how to create an "
        "owned object for it (owned_object), or list it in SHARED_PARAMS or ADMIN_PARAMS."
    )


def operations(document: dict[str, Any]) -> list[Operation]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def declared_scopes(operation: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(scopes, schemes) of an operation's security requirement."""
    requirements = operation.get("security") or []
    scopes = {s for req in requirements for names in req.values() for s in names}
    schemes = {name for req in requirements for name in req}
    return scopes, schemes


def undeclared(document: dict[str, Any]) -> list[str]:
    """Operations that are neither public nor declare a scope."""
    return [
        f"{method.upper()} {path}"
        for method, path, operation in operations(document)
        if (method, path) not in PUBLIC and not declared_scopes(operation)[0]
    ]


def _url(world: World, path: str, *, owned: bool) -> tuple[str, bool]:
    """The path with its parameters filled, and whether it names one of alice's objects."""
    names = re.findall(r"{(\w+)}", path)
    has_owned = False
    for name in names:
        if name in SHARED_PARAMS:
            value = SHARED_PARAMS[name]
        elif name in ADMIN_PARAMS:
            value = str(world.alice.id)
        else:
            value = owned_object(world, name) if owned else str(uuid.uuid4())
            has_owned = True
        path = path.replace(f"{{{name}}}", value)
    return path, has_owned


def _query(operation: dict[str, Any]) -> dict[str, str]:
    """Required query parameters with plain values (a 422 is still past authorization)."""
    return {
        p["name"]: "1" if p.get("schema", {}).get("type") == "integer" else "NVDA"
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }


BODIES = {
    "OrderRequest": {"symbol": "NVDA", "side": 1, "quantity": "1"},
    "HaltIn": {"reason": "route matrix"},
    "OrderChange": {"limit_price": "1"},
}
"""Bodies for the request schemas that require fields (validation comes before the
ownership check, so an empty body would never reach it)."""


def call(world: World, method: str, url: str, operation: dict[str, Any], headers: dict[str, str]):  # type: ignore[no-untyped-def]
    body = None
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        body = BODIES.get(schema.get("$ref", "").rsplit("/", 1)[-1], {})
    return world.client.request(method, url, params=_query(operation), json=body, headers=headers)


@pytest.fixture
def world(any_db_settings: Settings) -> Iterator[World]:
    app = create_app(migrated(any_db_settings))
    state = app.state.cift
    with TestClient(app, raise_server_exceptions=False) as client:
        yield World(
            app=app,
            client=client,
            alice=make_user(state.db, state.settings, "alice", Role.TRADER),
            bob=make_user(state.db, state.settings, "bob", Role.TRADER),
            admin=make_user(state.db, state.settings, "root", Role.ADMIN),
        )


def test_every_operation_is_public_or_declares_a_scope(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    assert undeclared(document) == []
    listed = {(m, p) for m, p, _ in operations(document)}
    assert listed >= PUBLIC, "a public operation was removed: update PUBLIC"
    for route in world.app.routes:
        if isinstance(route, APIRoute) and route.path.startswith("/api/"):
            assert route.include_in_schema, f"{route.path} hides from the route matrix"


def test_a_new_route_without_a_rule_is_caught(world: World) -> None:
    @world.app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {"oops": "no rule"}

    world.app.openapi_schema = None
    document = world.app.openapi()
    assert undeclared(document) == ["GET /api/v1/forgotten"]


def test_public_operations_need_no_credentials(world: World) -> None:
    for method, path, operation in operations(world.client.get("/openapi.json").json()):
        if (method, path) in PUBLIC:
            answer = call(world, method, path, operation, {})
            assert answer.status_code not in (401, 403), (method, path, answer.text)
            assert answer.status_code < 500, (method, path, answer.text)


def _holders(world: World, scopes: set[str], session_only: bool) -> Callable[[], dict[str, str]]:
    """Credentials of a user holding exactly what the operation needs."""
    user = world.admin if Scope.ADMIN.value in scopes else world.alice
    if session_only:
        return lambda: world.session(user)
    return lambda: world.key(user, {Scope(s) for s in scopes})


def test_authentication_scope_and_ownership_on_every_route(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    checked = 0
    for method, path, operation in operations(document):
        if (method, path) in PUBLIC:
            continue
        scopes, schemes = declared_scopes(operation)
        session_only = schemes == {"session"}
        where = f"{method.upper()} {path}"

        # 1. no credentials, or bad ones: 401
        url, _ = _url(world, path, owned=True)
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"X-API-Key": "cift_x"}):
            answer = call(world, method, url, operation, headers)
            assert answer.status_code == 401, (where, headers, answer.text)

        # 2. a credential of the admin lacking the declared scope: 403
        for scope in scopes:
            lacking = {s for s in Scope if s.value != scope}
            answer = call(world, method, url, operation, world.key(world.admin, lacking))
            assert answer.status_code == 403, (where, scope, answer.text)
        if session_only:  # account changes need a password session, not an API key
            answer = call(world, method, url, operation, world.key(world.admin, set(Scope)))
            assert answer.status_code == 403, (where, "api key", answer.text)

        # 3. ownership: bob, holding the scope, gets 404 for alice's object
        url, owned = _url(world, path, owned=True)
        refused = ""
        if owned:
            bobs = (
                world.session(world.bob)
                if session_only
                else world.key(world.bob, set(Scope) - {Scope.ADMIN})
            )
            answer = call(world, method, url, operation, bobs)
            assert answer.status_code == 404, (where, "other user's object", answer.text)
            refused = answer.json()["detail"]

        # 4. the owner holding the scope gets past authorization, and no 5xx
        answer = call(world, method, url, operation, _holders(world, scopes, session_only)())
        assert answer.status_code not in (401, 403), (where, answer.text)
        assert answer.status_code < 500, (where, answer.text)
        if owned and method == "get":  # found for its owner (a report may not exist yet)
            assert answer.status_code == 200 or answer.json()["detail"] != refused, where
        checked += 1
    assert checked >= 20
