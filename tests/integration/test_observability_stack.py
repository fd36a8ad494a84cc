"""Observability end to end, with real processes and a real Prometheus: ``cift serve`` and
a streaming stage (``cift stream run`` over Redis Streams) are scraped by Debian's
Prometheus, whose query API returns their stage metrics; an order placed over HTTP is
published on the bus and consumed by the stream process's alert stage, and the spans of
both processes reach a local OTLP receiver as one trace with correct parent links."""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.deploy.observability import exported_names, referenced_metrics
from tests.otlp import ReceivedSpan, Receiver, otlp_receiver
from tests.servers import tool_missing
from tests.serving import Server, environment, free_port

pytestmark = pytest.mark.serial  # three servers and a feed: timing-sensitive under load

PASSWORD = "correct horse battery staple"
PROMETHEUS = "/usr/bin/prometheus"
SPAN_PRODUCER, SPAN_CONSUMER = 4, 5  # OTLP's SpanKind numbers


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with otlp_receiver() as running:
        yield running


@pytest.fixture
def stack_env(tmp_path: Path, redis_url: str, receiver: Receiver) -> dict[str, str]:
    """What both CIFT processes share: a home, Redis Streams as the bus, the receiver."""
    return {
        "CIFT_SECRET_KEY": secrets.token_urlsafe(48),
        "CIFT_BUS": "redis",
        "CIFT_REDIS_URL": redis_url,
        "CIFT_BUS_PREFIX": f"obs{secrets.token_hex(4)}.",
        "CIFT_OTLP_ENDPOINT": receiver.endpoint,
    }


def _cift(home: Path, env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cift", *args],
        env=environment(home, **env),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"cift {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


class Stream:
    """``cift stream run`` with the alert checks, serving its metrics."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.metrics_port = free_port()
        self.log = home.parent / "stream.log"
        with self.log.open("w") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cift", "stream", "run", "--provider", "synthetic",
                 "--symbols", "AAA,BBB", "--speed", "600", "--alerts",
                 "--metrics-port", str(self.metrics_port)],
                env=environment(home, **env), stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def scrape(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text

    def wait_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"cift stream run exited:\n{self.log.read_text()[-3000:]}")
            try:
                if "cift_stream_received_rows_total{" in self.scrape():
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        pytest.fail(f"cift stream run shows no rows after {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Prometheus:
    """Debian's Prometheus scraping the given targets every second."""

    def __init__(self, folder: Path, jobs: dict[str, str]) -> None:
        if shutil.which(PROMETHEUS) is None:
            tool_missing(f"Prometheus ({PROMETHEUS})")
        self.port = free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": [target]}]}
                for job, target in jobs.items()
            ],
        }
        folder.mkdir()
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = folder / "prometheus.log"
        with self.log.open("w") as sink:
            self.process = subprocess.Popen(
                [PROMETHEUS, f"--config.file={folder / 'prometheus.yml'}",
                 f"--storage.tsdb.path={folder / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def query(self, expr: str, timeout: float = 60) -> list[dict[str, Any]]:
        """The query's series once it has any (an empty list at the timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"prometheus exited:\n{self.log.read_text()[-3000:]}")
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{self.port}/api/v1/query", params={"query": expr}, timeout=5
                ).json()
                series: list[dict[str, Any]] = answer["data"]["result"]
                if series:
                    return series
            except (httpx.TransportError, KeyError, ValueError):
                pass
            time.sleep(1)
        return []

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _sign_in(server: Server) -> dict[str, str]:
    answer = httpx.post(
        f"{server.base}/api/v1/auth/login",
        json={"username": "local", "password": PASSWORD},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _place_order(server: Server, headers: dict[str, str]) -> str:
    opened = httpx.post(
        f"{server.base}/api/v1/accounts",
        json={"name": "traced", "initial_cash": "100000"},
        headers=headers,
        timeout=10,
    )
    assert opened.status_code == 201, opened.text
    account = opened.json()["id"]
    placed = httpx.post(
        f"{server.base}/api/v1/trading/accounts/{account}/orders",
        json={"symbol": "AAA", "side": 1, "quantity": "10"},
        headers=headers,
        timeout=10,
    )
    assert placed.status_code == 201, placed.text
    return str(placed.json()["id"])


def _trace_of_the_order(spans: list[ReceivedSpan]) -> list[ReceivedSpan] | None:
    """The spans of the trace in which the stream process consumed order news."""
    consumed = [s for s in spans if s.name == "process orders" and s.kind == SPAN_CONSUMER]
    for consumer in consumed:
        trace = [s for s in spans if s.trace_id == consumer.trace_id]
        if any(s.service == "cift-api" and not s.parent_id for s in trace):
            return trace
    return None


def test_prometheus_scrapes_both_processes_and_a_trace_crosses_the_bus(
    tmp_path: Path, stack_env: dict[str, str], receiver: Receiver
) -> None:
    home = tmp_path / "home"
    _cift(home, stack_env, "users", "password", "local", "--password-stdin", stdin=PASSWORD + "\n")
    server = Server(home, **stack_env)
    stream = Stream(home, stack_env)
    prometheus: Prometheus | None = None
    try:
        server.wait_ready(timeout=60)
        stream.wait_serving()
        jobs = {
            "cift-api": f"127.0.0.1:{server.port}",
            "cift-stream": f"127.0.0.1:{stream.metrics_port}",
        }
        prometheus = Prometheus(tmp_path / "prometheus", jobs)
        headers = _sign_in(server)
        order_id = _place_order(server, headers)

        received = 'sum by (stage) (cift_stream_received_rows_total{job="cift-stream"}) > 0'
        stages = {s["metric"]["stage"] for s in prometheus.query(received)}
        assert stages >= {"store-trades", "bars", "features"}, stages
        logins = 'cift_api_requests_total{job="cift-api",route="/api/v1/auth/login"}'
        requests = prometheus.query(logins)
        assert requests, "the API's request counts reached Prometheus"
        assert float(requests[0]["value"][1]) >= 1
        written = prometheus.query('cift_store_written_rows_total{job="cift-stream"} > 0')
        assert written, "the stream's store writes reached Prometheus"

        exported = exported_names(httpx.get(f"{server.base}/metrics", timeout=5).text)
        exported |= exported_names(stream.scrape())
        missing = referenced_metrics() - exported
        assert not missing, f"dashboards and rules use metrics no process exports: {missing}"

        trace = receiver.wait_for(lambda spans: _trace_of_the_order(spans) is not None)
        found = _trace_of_the_order(trace)
        assert found is not None, sorted({(s.service, s.name) for s in trace})
    finally:
        if prometheus is not None:
            prometheus.stop()
        stream.stop()
        server.stop()

    by_id = {s.span_id: s for s in found}
    request = next(s for s in found if s.service == "cift-api" and not s.parent_id)
    assert request.name.startswith("POST /api/v1/trading/accounts/{account_id}/orders")
    publish = next(s for s in found if s.name == "publish orders")
    assert (publish.kind, publish.service) == (SPAN_PRODUCER, "cift-api")
    consume = next(s for s in found if s.name == "process orders")
    assert (consume.kind, consume.service) == (SPAN_CONSUMER, "cift-stream")
    assert by_id[consume.parent_id] is publish  # the consumer continues the publisher
    ancestor = by_id[publish.parent_id]
    while ancestor.parent_id:  # the publish sits under the request (through its handler)
        ancestor = by_id[ancestor.parent_id]
    assert ancestor is request
    sql = [s for s in found if s.service == "cift-stream" and s.parent_id == consume.span_id]
    assert sql, [(s.service, s.name, s.parent_id == consume.span_id) for s in found]
    assert order_id
