"""The dashboard end to end: a real ``cift serve`` over the demo's data, driven in
Debian's Chromium by the Playwright suite in ``web/e2e`` (sign in, charts, indicators, a
backtest and its tearsheet, comparison, alerts, paper orders, a viewer without trading
buttons, accessibility) and the API's /docs and /redoc rendered with every request to
another origin cut off. Screenshots of every page land in ``web/test-results``."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cift.cli.app import app
from cift.web.dashboard import DIST
from tests.demo_home import demo_home
from tests.servers import server_missing
from tests.serving import FAST_HASHING_ENV, Server

pytestmark = pytest.mark.serial  # a browser and a server: timing-sensitive under load

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"


def _cift(home: Path, *args: str, stdin: str | None = None) -> None:
    """Run a command in this process (the server runs in its own)."""
    env = {"CIFT_HOME": str(home), **FAST_HASHING_ENV}
    done = CliRunner().invoke(app, list(args), input=stdin, env=env)
    assert done.exit_code == 0, f"cift {' '.join(args)}:\n{done.output}"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        server_missing("chromium", "install it with apt-get install chromium (make test does)")
    if not (DIST / "index.html").is_file() or not (WEB / "node_modules").is_dir():
        server_missing("the dashboard build", "build it with make web")
    home = tmp_path_factory.mktemp("dashboard") / "home"
    shutil.copytree(demo_home(tmp_path_factory), home)  # with the model, for the models page
    _cift(
        home, "backtest", "sweep", "sma_cross", "--symbols", "AAPL", "--start", "2024-01-02",
        "--end", "2024-01-31", "--grid", "fast=10,20,30", "--grid", "slow=60,120",
        "--timeframe", "1m", "--workers", "1",
    )  # fmt: skip
    _cift(home, "users", "password", "local", "--password-stdin", stdin=PASSWORD + "\n")
    _cift(
        home, "users", "create", "watcher", "--email", "watcher@example.com",
        "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    server = Server(home, CIFT_RATE_LIMIT_AUTH_PER_MINUTE="200", **FAST_HASHING_ENV)
    server.wait_ready(timeout=60)
    yield server
    server.stop()


def test_the_dashboard_in_chromium(served: Server) -> None:
    env = {
        **os.environ,
        "CIFT_E2E_URL": served.base,
        "CIFT_E2E_USER": "local",
        "CIFT_E2E_PASSWORD": PASSWORD,
        "CIFT_E2E_VIEWER": "watcher",
        "CIFT_CHROMIUM": CHROMIUM,
    }
    npx = shutil.which("npx")
    assert npx is not None, "npx (Node.js) is needed for the dashboard's tests"
    done = subprocess.run(
        [npx, "playwright", "test"], cwd=WEB, env=env, capture_output=True, text=True, check=False
    )
    print(done.stdout[-20_000:])
    assert done.returncode == 0, f"Playwright failed:\n{done.stdout[-8000:]}\n{done.stderr[-4000:]}"
    assert "10 passed" in done.stdout  # none skipped
