"""``deploy/docker-compose.yml`` as Docker Compose itself reads it (``docker compose
config``): every service of the stack, health-checked, on named volumes, started in
order, its settings named as CIFT reads them, secrets required from ``deploy/.env``."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cift.core.settings import load_settings
from tests.deploy.conftest import (
    DEPLOY,
    ROOT,
    clean_environment,
    env_example,
    filled_env_example,
    write_env,
)

COMPOSE_FILE = DEPLOY / "docker-compose.yml"
REQUIRED = {
    "api", "stream-ingest", "stream-store", "questdb", "postgres", "redis", "kafka",
    "mlflow", "prometheus", "grafana", "jaeger",
}  # fmt: skip
STATEFUL = {"api", "postgres", "redis", "questdb", "kafka", "mlflow", "prometheus", "grafana"}
PENDING_SETTINGS = {"CIFT_OTLP_ENDPOINT", "CIFT_OTLP_SERVICE_NAME"}
"""Settings the stack passes that docs/configuration.md does not list yet."""
TARGET = re.compile(r"^#\s+([a-z-]+):(\d+)\s+/metrics\s+(.*)$")


def run_config(compose: Path, env_file: Path, *profiles: str) -> subprocess.CompletedProcess[str]:
    chosen = [word for profile in profiles for word in ("--profile", profile)]
    return subprocess.run(
        [str(compose), "-f", str(COMPOSE_FILE), "--env-file", str(env_file), *chosen,
         "config", "--format", "json"],
        capture_output=True, text=True, env=clean_environment(), cwd=ROOT, timeout=120,
        check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def stack(compose: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The resolved stack, every profile on, with the secrets of ``.env.example`` filled."""
    env_file = write_env(tmp_path_factory.mktemp("compose") / ".env", filled_env_example())
    done = run_config(compose, env_file, "trading")
    assert done.returncode == 0, done.stderr
    resolved: dict[str, Any] = json.loads(done.stdout)
    return resolved


def cift_services(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in stack["services"].items()
        if service.get("image") == stack["services"]["api"]["image"]
        and name != "mlflow"  # the CIFT image, but MLflow's server
    }


def test_every_service_is_there_health_checked_and_pinned(stack: dict[str, Any]) -> None:
    services = stack["services"]
    assert set(services) >= REQUIRED
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name} has no health check"
        assert test[0] in ("CMD", "CMD-SHELL"), test
        image = service["image"]
        if "build" not in service and image != services["api"]["image"]:
            tag = image.rpartition(":")[2]
            assert ":" in image, f"{name}: {image} has no tag"
            assert re.search(r"\d", tag), f"{name}: {image} is not a version"
            assert tag != "latest", image


def test_services_start_once_what_they_need_is_healthy(stack: dict[str, Any]) -> None:
    services = stack["services"]
    for name, service in services.items():
        for needed, how in service.get("depends_on", {}).items():
            assert needed in services, f"{name} depends on missing {needed}"
            assert how["condition"] == "service_healthy", f"{name} -> {needed}"
    assert {"postgres", "redis", "questdb", "kafka", "mlflow", "jaeger"} <= set(
        services["api"]["depends_on"]
    )
    for stage in ("stream-ingest", "stream-store"):
        assert {"kafka", "questdb", "redis"} <= set(services[stage]["depends_on"])


def test_state_lives_on_named_volumes(stack: dict[str, Any]) -> None:
    declared = set(stack["volumes"])
    for name in STATEFUL:
        named = {
            mount["source"]
            for mount in stack["services"][name].get("volumes", [])
            if mount["type"] == "volume"
        }
        assert named, f"{name} keeps its data on no named volume"
        assert named <= declared, named - declared


def test_cift_settings_are_named_as_cift_reads_them(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    documented = set(
        re.findall(
            r"^\| `(CIFT_[A-Z0-9_]+)` \|", (ROOT / "docs" / "configuration.md").read_text(), re.M
        )
    )
    services = cift_services(stack)
    assert {"api", "stream-ingest", "stream-store"} <= set(services)
    for name, service in services.items():
        environment: dict[str, str] = service["environment"]
        cift = {key for key in environment if key.startswith("CIFT_")}
        assert cift - documented <= PENDING_SETTINGS, (
            f"{name}: {cift - documented - PENDING_SETTINGS}"
        )
        assert environment["CIFT_OTLP_ENDPOINT"] == "http://jaeger:4318"
        assert environment["CIFT_OTLP_SERVICE_NAME"] == f"cift-{name}"
        for key in cift - PENDING_SETTINGS:
            monkeypatch.setenv(key, environment[key])
        settings = load_settings()  # production: refuses a weak secret
        assert settings.is_production
        assert settings.market_store == "questdb"
        assert settings.bus == "kafka"
        assert settings.database_url is not None
        assert settings.database_url.get_secret_value().startswith("postgresql+psycopg://")
        assert settings.redis_url is not None
        assert settings.mlflow_tracking_uri == "http://mlflow:5000"


def test_prometheus_targets_are_served_where_the_header_says(stack: dict[str, Any]) -> None:
    header = COMPOSE_FILE.read_text().split("\nname:", 1)[0].splitlines()
    targets = {m[1]: m[2] for m in map(TARGET.match, header) if m}
    services = stack["services"]
    cift = set(cift_services(stack))
    assert {"api", "stream-ingest", "stream-store"} <= set(targets)
    assert cift <= set(targets), "a CIFT process without a scrape target"
    for name, port in targets.items():
        service = services[name]
        exposed = {str(p) for p in service.get("expose", [])}
        exposed |= {str(p["target"]) for p in service.get("ports", [])}
        assert port in exposed, f"{name} does not expose {port}"
        if name.startswith("stream-"):
            command = service["command"]
            assert command[command.index("--metrics-port") + 1] == port
    assert "api" in services["api"]["environment"]["CIFT_TRUSTED_HOSTS"].split(",")


def test_paper_trading_starts_only_when_asked(compose: Path, tmp_path: Path) -> None:
    done = run_config(compose, write_env(tmp_path / ".env", filled_env_example()))
    assert done.returncode == 0, done.stderr
    services = json.loads(done.stdout)["services"]
    assert "trade" not in services
    assert set(services) >= REQUIRED


def test_a_missing_secret_stops_compose_naming_it(compose: Path, tmp_path: Path) -> None:
    values = filled_env_example()
    del values["POSTGRES_PASSWORD"]
    done = run_config(compose, write_env(tmp_path / ".env", values))
    assert done.returncode != 0
    assert "POSTGRES_PASSWORD" in done.stderr
    assert "deploy/.env" in done.stderr


def test_the_example_as_copied_asks_for_its_secrets(compose: Path) -> None:
    done = run_config(compose, DEPLOY / ".env.example")
    assert done.returncode != 0
    assert "CIFT_SECRET_KEY" in done.stderr


def test_every_variable_the_stack_reads_is_in_the_example() -> None:
    text = COMPOSE_FILE.read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    required = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+):\?", text))
    example = env_example()
    assert used <= set(example), used - set(example)
    assert {"CIFT_SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"} <= required
    assert all(example[name] == "" for name in required), "a secret with a default value"
