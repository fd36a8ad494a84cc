"""The tests' own process helpers: a failing test leaves no process running."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.fresh import reaped


def test_a_failing_block_kills_what_it_started_and_leaves_the_ended_alone() -> None:
    processes: list[subprocess.Popen[bytes]] = []

    def fail_with_a_child_running() -> None:
        with reaped() as track:
            processes.append(track(subprocess.Popen([sys.executable, "-c", "exit(3)"])))
            assert processes[0].wait(30) == 3
            sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
            processes.append(track(subprocess.Popen(sleeper)))
            processes[1].wait(0.1)  # a timeout like those that left children behind

    with pytest.raises(subprocess.TimeoutExpired):
        fail_with_a_child_running()
    assert [p.returncode for p in processes] == [3, -9]  # the sleeper killed on the way out
