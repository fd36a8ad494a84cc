"""Liveness and readiness against real backends, up and down."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cift.api.app import create_app
from cift.core.settings import Settings
from cift.db import migrate
from cift.db.engine import create_db_engine
from tests.api.conftest import AppFactory
from tests.conftest import SettingsFactory
from tests.schema import migrated
from tests.serving import free_port


def test_live_answers_with_version(client: TestClient) -> None:
    body = client.get("/health/live").json()
    assert body["status"] == "alive"
    assert body["uptime_seconds"] >= 0


def test_ready_on_the_embedded_default(client: TestClient) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "market_store"}
    assert body["checks"]["market_store"]["detail"].startswith("embedded catalog")
    assert body["checks"]["database"]["status"] == "ok"


def test_ready_on_both_database_backends(db_settings: Settings) -> None:
    with TestClient(create_app(migrated(db_settings))) as client:
        response = client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["database"]["detail"].startswith(
        db_settings.database_url_value().split(":")[0].split("+")[0]
    )


def test_ready_with_real_redis(make_app: AppFactory, redis_url: str) -> None:
    with TestClient(make_app(redis_url=redis_url)) as client:
        response = client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["redis"]["detail"].startswith("redis ")


def test_unreachable_redis_makes_ready_503_with_a_report(make_app: AppFactory) -> None:
    app = make_app(redis_url=f"redis://127.0.0.1:{free_port()}/0", health_timeout_seconds=1)
    with TestClient(app) as client:
        response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["redis"]["detail"]


def test_unreachable_database_makes_ready_503(make_settings: SettingsFactory) -> None:
    url = f"postgresql+psycopg://cift@127.0.0.1:{free_port()}/cift"
    app = create_app(make_settings(database_url=url, health_timeout_seconds=1))
    with TestClient(app) as client:
        response = client.get("/health/ready")
        live = client.get("/health/live")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["status"] == "down"
    assert "cannot be reached" in response.json()["checks"]["database"]["detail"]
    assert live.status_code == 200


def test_unmigrated_database_is_not_ready(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    engine = create_db_engine(settings)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    engine.dispose()
    with TestClient(create_app(settings)) as client:
        response = client.get("/health/ready")
    assert response.status_code == 503
    assert "cift db upgrade" in response.json()["checks"]["database"]["detail"]
