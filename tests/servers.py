"""The real servers tests run against, started through ``deploy/local/services.py``.

A test variable (``CIFT_TEST_POSTGRES_URL``, ``CIFT_TEST_REDIS_URL``,
``CIFT_TEST_QUESTDB_PG_URL`` with ``CIFT_TEST_QUESTDB_ILP_CONF``,
``CIFT_TEST_KAFKA_BOOTSTRAP_SERVERS``, ``CIFT_TEST_MLFLOW_TRACKING_URI``) points at an
existing server instead. Otherwise the script starts the server (or finds it up) and
reports its addresses; a server the tests started is stopped when they end, one that was
up already is left running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "deploy" / "local" / "services.py"
START_TIMEOUT_SECONDS = 900


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(message: str) -> None:
    """Skip locally, fail in CI: CI must run every test, on every real backend and tool."""
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def server_missing(what: str, reason: object) -> None:
    """A server the test needs is down."""
    unavailable(f"{what} is not reachable ({reason}); start it or set its CIFT_TEST_* variable")


def tool_missing(name: str) -> None:
    """A checking tool the test runs is not installed."""
    unavailable(f"{name} is not installed; run make tools")


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT_SECONDS,
        check=False,
    )


@dataclass
class Servers:
    """Addresses of the servers this test session uses, each started at most once."""

    started: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, dict[str, str]] = field(default_factory=dict)

    def address(self, service: str, variable: str) -> str:
        """The value of ``variable`` (a ``CIFT_TEST_*`` name) for ``service``."""
        configured = os.environ.get(variable, "").strip()
        if configured:
            return configured
        if service not in self.addresses and service not in self.failures:
            self._start(service)
        if service in self.failures:
            server_missing(service, self.failures[service])
        return self.addresses[service][variable]

    def _start(self, service: str) -> None:
        try:
            done = run_script("up", service, "--json")
        except subprocess.TimeoutExpired:
            self.failures[service] = f"services.py up {service} took over {START_TIMEOUT_SECONDS} s"
            return
        try:
            (status,) = json.loads(done.stdout).values()
        except ValueError:
            status = {"up": False}
        if done.returncode != 0 or not status["up"]:
            lines = (done.stderr or done.stdout).strip().splitlines()
            self.failures[service] = " | ".join(lines[-8:]) or f"exit code {done.returncode}"
            return
        self.addresses[service] = dict(status["urls"])
        if status["started"]:
            self.started.append(service)

    def stop_started(self) -> None:
        """Stop what this session started, newest first."""
        if self.started:
            run_script("down", *reversed(self.started))
            self.started.clear()
