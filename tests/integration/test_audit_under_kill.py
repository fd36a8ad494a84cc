"""A server killed under load: every committed change has its audit entry, and no entry
records a change that was not committed."""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from cift.core.settings import load_settings
from cift.db.engine import create_db_engine, session_factory
from cift.db.models import AuditEntry, AuditOutcome, TradingAccount
from tests.integration.test_backtest_queue import cift
from tests.serving import Server

pytestmark = pytest.mark.slow

CLIENTS = 8
LOAD = 60
"""Accounts acknowledged before the kill: it lands in the middle of the load."""
ACTION = "POST /api/v1/accounts"


def hammer(server: Server, key: str, stop: threading.Event, acks: list[int]) -> int:
    """Create accounts until the server goes away; how many it acknowledged (each also
    counted on ``acks``, shared by the clients)."""
    acknowledged = 0
    with httpx.Client(base_url=server.base, headers={"X-API-Key": key}, timeout=5) as client:
        while not stop.is_set():
            try:
                name = f"load-{uuid.uuid4().hex}"  # names are unique per user
                answer = client.post(
                    "/api/v1/accounts", json={"name": name, "initial_cash": "1000"}
                )
            except httpx.TransportError:
                return acknowledged
            if answer.status_code == 201:
                acknowledged += 1
                acks.append(1)
    return acknowledged


def test_a_kill_under_load_loses_no_audit_entry(tmp_path: Path) -> None:
    home = tmp_path / "cift-home"
    created = cift(
        home,
        "keys",
        "create",
        "--user",
        "local",
        "--name",
        "load",
        "--scopes",
        "read,trade",
        "--json",
    )
    key = json.loads(created)["key"]
    server = Server(home, CIFT_RATE_LIMIT_ENABLED="false")
    server.wait_ready()
    stop = threading.Event()
    acks: list[int] = []
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(hammer, server, key, stop, acks) for _ in range(CLIENTS)]
        deadline = time.monotonic() + 60
        while len(acks) < LOAD and time.monotonic() < deadline:  # under load, then killed
            time.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        stop.set()
        acknowledged = sum(f.result() for f in futures)

    engine = create_db_engine(load_settings(home=home))
    try:
        with session_factory(engine)() as session:
            accounts = set(session.scalars(select(TradingAccount.id)))
            entries = session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == ACTION, AuditEntry.outcome == AuditOutcome.SUCCESS
                )
            ).all()
            total = session.scalar(select(func.count()).select_from(AuditEntry))
    finally:
        engine.dispose()
    assert acknowledged > 20, "the load never got going"
    assert len(accounts) >= acknowledged
    assert {entry.target_id for entry in entries} == {str(a) for a in accounts}
    assert len(entries) == len(accounts)
    assert total is not None
    assert total >= len(entries)
