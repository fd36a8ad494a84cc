"""`cift serve` as a real process: it migrates, serves, logs JSON, and refuses bad config."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIFT_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return {**env, "CIFT_HOME": str(home), **extra}


class Server:
    def __init__(self, home: Path, *args: str, **env: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = home.parent / f"serve-{self.port}.log"
        with self.log.open("w") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cift", "serve", "--port", str(self.port), *args],
                env=_environment(home, **env),
                stdout=sink,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 30) -> httpx.Response:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"server exited early:\n{self.log.read_text()}")
            try:
                return httpx.get(f"{self.base}/health/ready", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        pytest.fail(f"server not up after {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.log.read_text()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "cift-home"


@pytest.fixture
def server(home: Path) -> Iterator[Server]:
    strong = secrets.token_urlsafe(48)
    srv = Server(home, CIFT_ENV="production", CIFT_SECRET_KEY=strong)
    yield srv
    if srv.process.poll() is None:
        srv.stop()


def test_serve_creates_and_migrates_the_embedded_database(server: Server, home: Path) -> None:
    response = server.wait_ready()
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["database"]["status"] == "ok"
    assert (home / "cift.db").is_file()


def test_production_logs_are_json_lines_with_the_request_id(server: Server) -> None:
    server.wait_ready()
    httpx.get(f"{server.base}/health/live", headers={"X-Request-ID": "it-123"})
    output = server.stop()
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    request = [r for r in records if r.get("request_id") == "it-123"]
    assert len(request) == 1
    assert request[0]["route"] == "/health/live"
    assert request[0]["status"] == 200
    assert any(r["logger"].startswith("uvicorn") for r in records)


def test_production_refuses_the_default_secret(home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cift", "serve", "--port", str(_free_port())],
        env=_environment(home, CIFT_ENV="production"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 78
    assert "CIFT_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_metrics_add_up_over_several_workers(home: Path) -> None:
    srv = Server(home, "--workers", "2")
    try:
        srv.wait_ready()
        for _ in range(20):
            httpx.get(f"{srv.base}/api/v1/system")
        text = httpx.get(f"{srv.base}/metrics").text
    finally:
        srv.stop()
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith("cift_http_requests_total{") and 'route="/api/v1/system"' in ln
    )
    assert float(line.rsplit(" ", 1)[1]) == 20
