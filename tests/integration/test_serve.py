"""`cift serve` as a real process: it migrates, serves, logs JSON, and refuses bad config."""

from __future__ import annotations

import ipaddress
import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.serving import FAST_HASHING_ENV, Server, environment, free_port, held_port

pytestmark = pytest.mark.slow


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
        [sys.executable, "-m", "cift", "serve", "--port", str(free_port())],
        env=environment(home, CIFT_ENV="production"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 78
    assert "CIFT_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_busy_or_impossible_port_is_one_clear_line(home: Path) -> None:
    with held_port() as busy:
        result = subprocess.run(
            [sys.executable, "-m", "cift", "serve", "--port", str(busy)],
            env=environment(home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 78
    assert f"Cannot listen on 127.0.0.1:{busy}" in result.stderr
    assert "pick another port with --port" in result.stderr
    assert "Traceback" not in result.stderr
    wrong = subprocess.run(
        [sys.executable, "-m", "cift", "serve", "--port", "99999"],
        env=environment(home), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "--port" in wrong.stderr
    assert "CIFT_PORT" not in wrong.stderr  # the flag was wrong, not the setting


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
        if ln.startswith("cift_api_requests_total{") and 'route="/api/v1/system"' in ln
    )
    assert float(line.rsplit(" ", 1)[1]) == 20


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_speaks_https_with_hsts(home: Path, tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path, "server")
    srv = Server(home, "--tls-certfile", str(cert), "--tls-keyfile", str(key))
    try:
        assert srv.wait_ready().status_code == 200
        answer = httpx.get(f"{srv.base}/api/v1/system", verify=srv.verify)
        assert answer.headers["strict-transport-security"].startswith("max-age=")
        with pytest.raises(httpx.TransportError):  # an unknown certificate is refused
            httpx.get(f"{srv.base}/health/live", timeout=5)
    finally:
        output = srv.stop()
    assert f"https://127.0.0.1:{srv.port}" in output


@pytest.mark.parametrize("mistake", ["only a certificate", "another key"])
def test_serve_refuses_an_unusable_certificate(home: Path, tmp_path: Path, mistake: str) -> None:
    cert, _ = _certificate(tmp_path, "server")
    _, other_key = _certificate(tmp_path, "other")
    args = ["--tls-certfile", str(cert)]
    if mistake == "another key":
        args += ["--tls-keyfile", str(other_key)]
    result = subprocess.run(
        [sys.executable, "-m", "cift", "serve", "--port", str(free_port()), *args],
        env=environment(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    expected = "needs both" if mistake == "only a certificate" else "Cannot use the TLS certificate"
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def _logins(server: Server, forwarded: list[str]) -> list[int]:
    return [
        httpx.post(
            f"{server.base}/api/v1/auth/login",
            json={"username": "nobody", "password": "wrong password here"},
            headers={"X-Forwarded-For": ip},
            timeout=10,
        ).status_code
        for ip in forwarded
    ]


def test_a_rotating_forwarded_for_does_not_escape_the_login_limit(home: Path) -> None:
    rotating = [f"203.0.113.{i}" for i in range(1, 7)]
    server = Server(home, CIFT_RATE_LIMIT_AUTH_PER_MINUTE="3", **FAST_HASHING_ENV)
    try:
        server.wait_ready()
        assert _logins(server, rotating) == [401, 401, 401, 429, 429, 429]
    finally:
        server.stop()
    # Behind a configured proxy each forwarded client has its own budget.
    proxied = Server(
        home,
        CIFT_RATE_LIMIT_AUTH_PER_MINUTE="3",
        CIFT_FORWARDED_ALLOW_IPS="127.0.0.1",
        **FAST_HASHING_ENV,
    )
    try:
        proxied.wait_ready()
        assert _logins(proxied, rotating) == [401] * 6
    finally:
        proxied.stop()
