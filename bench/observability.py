"""What watching costs: the live path and the API with tracing off and on, and /metrics.

1. Bus round trip: batches of 100 trades published on the in-process bus and consumed by
   the stages' consume loop (a producer and a consumer span per batch when tracing is
   on), batches per second and the cost per batch.
2. API requests: GET /api/v1/system with an API key through the ASGI app (the request,
   its SQL statements and the middleware), requests per second and p50 per request.
3. /metrics: the exposition of one process, alone and with the files of 8 job workers
   to add up.

Tracing "on" sends every span (sampling 1.0) in batches over OTLP/HTTP to a local
receiver that discards them, as a collector would take them.

    python bench/observability.py [--batches 5000] [--requests 2000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fastapi.testclient import TestClient

from cift.api.app import create_app
from cift.audit import Actor
from cift.core import metrics, tracing
from cift.core.settings import Settings, load_settings
from cift.data.bus.memory import MemoryBus
from cift.data.stream.stage import Outcome, consume
from cift.db import migrate
from cift.db.engine import create_db_engine, session_factory
from cift.db.models import Role
from cift.identity import keys, users
from cift.identity.scopes import Scope

from common import machine, table, trades

BATCH_ROWS = 100
WORKER_FILES = 8


def bus_round_trip(batches: int) -> float:
    """Seconds to publish and consume ``batches`` batches."""
    bus = MemoryBus(capacity=batches + 1)
    frame = trades(BATCH_ROWS, 1)
    stop = threading.Event()
    seen = [0]

    def work(deliveries: Sequence[object]) -> Outcome:
        seen[0] += len(deliveries)
        if seen[0] >= batches:
            stop.set()
        return Outcome(0, deliveries)  # type: ignore[arg-type]

    began = time.perf_counter()
    consumer = threading.Thread(target=consume, args=(bus, "trades", "g", "c", work, stop))
    consumer.start()
    for _ in range(batches):
        bus.publish("trades", frame)
    consumer.join()
    return time.perf_counter() - began


def span_us(rounds: int = 100_000) -> float:
    """Microseconds of one empty span (a no-op one while tracing is off)."""
    began = time.perf_counter()
    for _ in range(rounds):
        with tracing.span("nothing"):
            pass
    return (time.perf_counter() - began) / rounds * 1e6


def api_client(settings: Settings) -> tuple[TestClient, dict[str, str]]:
    engine = create_db_engine(settings)
    migrate.upgrade(engine)
    db = session_factory(engine)
    actor = Actor(None, "bench")
    owner = users.create_user(
        db,
        settings,
        actor,
        username="bench",
        email="bench@example.com",
        password="correct horse battery staple",
        role=Role.ADMIN,
    )
    _, key = keys.create_key(db, actor, owner.id, "bench", {Scope.READ})
    engine.dispose()
    return TestClient(create_app(settings)), {"X-API-Key": key}


def api_requests(settings: Settings, count: int) -> list[float]:
    """Seconds per request of ``count`` GET /api/v1/system."""
    client, headers = api_client(settings)
    took = []
    with client:
        for _ in range(100):  # warm up
            client.get("/api/v1/system", headers=headers)
        for _ in range(count):
            began = time.perf_counter()
            answer = client.get("/api/v1/system", headers=headers)
            took.append(time.perf_counter() - began)
            assert answer.status_code == 200, answer.text
    return took


def _worker_values(folder: str) -> None:
    """In a spawned process: the metrics a backtest worker leaves behind."""
    os.environ[metrics.MULTIPROC_ENV] = folder
    from cift.backtest.telemetry import BARS, DURATION, RUNS

    BARS.inc(1_000_000)
    DURATION.observe(2.5)
    RUNS.labels("done").inc()


def exposition_ms(rounds: int = 50) -> float:
    took = []
    for _ in range(rounds):
        began = time.perf_counter()
        metrics.exposition()
        took.append(time.perf_counter() - began)
    return statistics.median(took) * 1000


def metrics_scrapes(home: Path) -> tuple[float, float]:
    """Median ms of one /metrics exposition: this process alone, then with the files of
    ``WORKER_FILES`` workers."""
    alone = exposition_ms()
    folder = home / "prometheus"
    metrics.share_with_workers(folder)
    spawn = multiprocessing.get_context("spawn")
    for _ in range(WORKER_FILES):
        process = spawn.Process(target=_worker_values, args=(str(folder),))
        process.start()
        process.join()
    return alone, exposition_ms()


class _Discard(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Discard)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        off = load_settings(
            home=home / "off",
            trusted_hosts=["testserver"],
            log_level="WARNING",
            rate_limit_enabled=False,  # one client asks as fast as it can
        )
        span_off = span_us()
        bus_off = min(bus_round_trip(args.batches) for _ in range(3))
        api_off = api_requests(off, args.requests)
        endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
        on = off.model_copy(update={"home": home / "on", "otlp_endpoint": endpoint})
        assert tracing.setup_tracing(on, "cift-bench")
        bus_on = min(bus_round_trip(args.batches) for _ in range(3))
        tracing.flush()
        span_on = span_us(10_000)
        api_on = api_requests(on, args.requests)
        tracing.flush()
        alone, with_workers = metrics_scrapes(home)
    receiver.shutdown()

    print(f"Machine: {machine()}\n")
    per_batch = [bus_off / args.batches * 1e6, bus_on / args.batches * 1e6]
    print(
        table(
            "One empty span",
            ["tracing", "cost"],
            [
                ["off (no-op)", f"{span_off:.2f} us"],
                ["on (recorded, batched)", f"{span_on:.2f} us"],
            ],
        )
    )
    print(
        table(
            f"Bus round trip, {args.batches:,} batches of {BATCH_ROWS} trades (best of 3)",
            ["tracing", "batches/s", "per batch"],
            [
                ["off", f"{args.batches / bus_off:,.0f}", f"{per_batch[0]:.0f} us"],
                ["on", f"{args.batches / bus_on:,.0f}", f"{per_batch[1]:.0f} us"],
            ],
        )
    )
    rows = []
    for name, took in (("off", api_off), ("on", api_on)):
        p50 = statistics.median(took) * 1000
        rows.append([name, f"{len(took) / sum(took):,.0f}", f"{p50:.2f} ms"])
    print(
        table(f"GET /api/v1/system, {args.requests:,} requests", ["tracing", "req/s", "p50"], rows)
    )
    print(
        table(
            "/metrics exposition (median of 50)",
            ["what is exposed", "ms"],
            [
                ["this process", f"{alone:.2f}"],
                [f"this process + {WORKER_FILES} job workers' files", f"{with_workers:.2f}"],
            ],
        )
    )


if __name__ == "__main__":
    main()
