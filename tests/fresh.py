"""Processes the tests start: a snippet in a new Python process (what a module imports or
leaves behind can only be seen in an interpreter that has imported nothing yet), and
reaping the processes a test leaves running when it fails."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def fresh_python(
    script: str, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> list[str]:
    """The lines ``script`` prints when run by a new interpreter with ``args`` (and
    ``env``, else this process's environment); with ``check``, a non-zero exit fails
    the test with the snippet's error."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


Process = subprocess.Popen[Any]
Reap = Callable[[Process], Process]
"""Takes a process a test started, and returns it (the ``reap`` fixture)."""


@contextmanager
def reaped() -> Iterator[Reap]:
    """``track(process)`` for each process the block starts (it returns the process): any
    still running when the block ends, by a failed assertion or a timeout too, is killed,
    so a failing test leaves no process behind to load the tests after it."""
    started: list[Process] = []

    def track(process: Process) -> Process:
        started.append(process)
        return process

    try:
        yield track
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(10)
