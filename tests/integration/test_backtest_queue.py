"""Queued backtests outlive no server: a SIGKILL leaves them to the next start, a SIGTERM
hands them back itself; either way each ends succeeded or failed with how to rerun it."""

from __future__ import annotations

import json
import signal
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest
from typer.testing import CliRunner

from cift.cli.app import app
from cift.core.settings import load_settings
from cift.db.models import JobStatus
from cift.db.repositories.backtests import backtest_records
from tests.samples import NVDA
from tests.serving import Server

pytestmark = pytest.mark.slow

BODY = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 50}, "symbols": ["NVDA"]}
RUNS = 6


def cift(home: Path, *args: str) -> str:
    """A command on ``home``, run in this process (the servers run in their own)."""
    done = CliRunner().invoke(app, list(args), env={"CIFT_HOME": str(home)})
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.fixture
def key(tmp_path: Path) -> tuple[Path, str]:
    home = tmp_path / "cift-home"
    cift(home, "data", "import", str(NVDA))
    created = cift(
        home, "keys", "create", "--user", "local", "--name", "q", "--scopes", "read,trade", "--json"
    )
    return home, json.loads(created)["key"]


def submit(server: Server, key: str) -> list[str]:
    ids = []
    for _ in range(RUNS):
        answer = httpx.post(
            f"{server.base}/api/v1/backtests",
            json={**BODY, "timeframe": "1d"},
            headers={"X-API-Key": key},
            timeout=30,
        )
        assert answer.status_code == 202, answer.text
        ids.append(answer.json()["id"])
    return ids


def settled(home: Path, ids: list[str], timeout: float = 90) -> dict[str, tuple[JobStatus, str]]:
    """Each run's final status and error, once none is queued or running."""
    deadline = time.monotonic() + timeout
    while True:
        with backtest_records(load_settings(home=home)) as records:
            rows = {i: records.get(uuid.UUID(i)) for i in ids}
        states = {i: (r.status, r.error or "") for i, r in rows.items()}
        if all(s not in (JobStatus.QUEUED, JobStatus.RUNNING) for s, _ in states.values()):
            return states
        assert time.monotonic() < deadline, f"still pending: {states}"
        time.sleep(0.5)


def queue_then_signal(home: Path, key: str, sig: signal.Signals) -> list[str]:
    """Queue RUNS runs on a one-worker server, then send it ``sig`` and let it end; its
    worker processes end with it."""
    server = Server(home, CIFT_BACKTEST_WORKERS="1")
    server.wait_ready()
    ids = submit(server, key)
    workers = psutil.Process(server.process.pid).children(recursive=True)
    assert workers, "the queued runs started no worker process"
    server.process.send_signal(sig)
    server.process.wait(60)
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == [], f"worker processes outlived their server: {alive}"
    return ids


def rerunnable(states: dict[str, tuple[JobStatus, str]]) -> list[str]:
    """The errors of the failed runs, each of which must say how to run it again."""
    failed = [error for status, error in states.values() if status is JobStatus.FAILED]
    assert all("cift backtest rerun" in error for error in failed), failed
    return failed


def test_a_killed_server_leaves_no_run_queued_after_the_next_start(key: tuple[Path, str]) -> None:
    home, api_key = key
    ids = queue_then_signal(home, api_key, signal.SIGKILL)
    second = Server(home, CIFT_BACKTEST_WORKERS="1")
    try:
        second.wait_ready()
        states = settled(home, ids)
    finally:
        second.stop()
    assert rerunnable(states), "a SIGKILL right after queueing six runs left none to recover"


def test_a_terminated_server_hands_its_queue_back(key: tuple[Path, str]) -> None:
    home, api_key = key
    ids = queue_then_signal(home, api_key, signal.SIGTERM)
    states = settled(home, ids)  # no new server: the stopping one settled them
    assert {status for status, _ in states.values()} <= {JobStatus.SUCCEEDED, JobStatus.FAILED}
    rerunnable(states)
