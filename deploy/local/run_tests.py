#!/usr/bin/env python3
"""Run the whole test suite the way CI does, in two phases, with the servers it needs.

    python deploy/local/run_tests.py [PYTEST ARGS ...]

1. The servers are brought up first (``services.py up``; those already running are
   left alone), so parallel test processes never race to start them.
2. Every test not marked ``serial`` runs on two worker processes (pytest-xdist, tests
   handed out one by one, so the long ones spread out).
3. The ``serial`` tests run alone: they restart servers, kill processes at chosen
   moments, or time a live session, and would measure the other worker's load instead.
   Only the files that mark tests ``serial`` (``pytest.mark.serial`` in the file itself)
   are collected again for them.
4. The coverage of both phases is reported together; the servers this script started are
   stopped again. What both phases share (the demo's home, see ``tests/demo_home.py``,
   made beside the parallel tests from the start) sits in one temporary folder, removed
   at the end. The exit code is the first failing phase's (a phase that the given
   arguments leave empty has not failed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = [sys.executable, str(ROOT / "deploy" / "local" / "services.py")]
PYTEST = [sys.executable, "-m", "pytest"]
WORKERS = "2"
NOTHING_COLLECTED = 5


def bring_up() -> list[str]:
    """Start the servers; the names of those this call started."""
    done = subprocess.run([*SERVICES, "up", "--json"], capture_output=True, text=True, check=False)
    sys.stderr.write(done.stderr)
    try:
        statuses = json.loads(done.stdout)
    except ValueError:
        statuses = {}
    for name, status in statuses.items():
        state = "started" if status.get("started") else ("up" if status.get("up") else "DOWN")
        print(f"{name:9} {state:8} {status.get('detail', '')}", flush=True)
    return [name for name, status in statuses.items() if status.get("started")]


def main() -> int:
    extra = sys.argv[1:]
    started = bring_up()
    shared = tempfile.mkdtemp(prefix="cift-tests-")
    os.environ["CIFT_TEST_SHARED"] = shared  # (the test processes inherit it)
    demo = subprocess.Popen([sys.executable, "-m", "tests.demo_home", shared], cwd=ROOT)
    try:
        parallel = subprocess.run(
            [*PYTEST, "-n", WORKERS, "--dist", "loadgroup", "-m", "not serial",
             "--cov", "--cov-report=", "--cov-fail-under=0", "--durations=15", *extra],
            cwd=ROOT, check=False,
        )  # fmt: skip
        alone = subprocess.run(
            [*PYTEST, "-m", "serial", "--cov", "--cov-append", "--cov-report=term",
             "--durations=10", *(extra or serial_files())],
            cwd=ROOT, check=False,
        )  # fmt: skip
    finally:
        demo.wait()  # (a failure shows in the tests that use the demo's home)
        shutil.rmtree(shared, ignore_errors=True)
        if started:
            subprocess.run([*SERVICES, "down", *reversed(started)], check=False)
    return _outcome(parallel.returncode) or _outcome(alone.returncode)


def serial_files() -> list[str]:
    """The test files that mark tests ``serial``: collecting only them spares the serial
    phase importing the whole suite again (about 20 s)."""
    tests = sorted((ROOT / "tests").rglob("test_*.py"))
    return [str(path.relative_to(ROOT)) for path in tests if "mark.serial" in path.read_text()]


def _outcome(code: int) -> int:
    """A phase whose selection holds no test (pytest's 5) has not failed."""
    return 0 if code == NOTHING_COLLECTED else code


if __name__ == "__main__":
    sys.exit(main())
