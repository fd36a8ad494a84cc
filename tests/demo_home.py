"""A CIFT home holding what ``cift demo`` stores and records, made once for a whole run.

The first process to need it makes it; the others wait for it and copy it before
changing anything (its MLflow store and recorded runs keep absolute paths into it, so it
stays where it was made). ``deploy/local/run_tests.py`` names one folder for both of its
phases (``CIFT_TEST_SHARED``) and starts making it there beside the tests
(``python -m tests.demo_home FOLDER``), so that no test worker sits waiting for it; a
plain ``pytest`` run keeps it under its own base temporary folder.
"""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cift.cli.app import app

SHARED = "CIFT_TEST_SHARED"


def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's demo home, made on first use."""
    return made(_root(tmp_path_factory))


def made(root: Path) -> Path:
    """The demo home under ``root``, made unless it is (or is being made) already."""
    home = root / "demo" / ".cift"
    with (root / "demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "demo.made").exists():
            unset = {name: None for name in os.environ if name.startswith("CIFT_")}
            env = unset | {"CIFT_HOME": str(home)}  # none of the developer's settings
            done = CliRunner().invoke(app, ["demo"], env=env)
            assert done.exit_code == 0, done.output
            (root / "demo.made").touch()
    return home


def _root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get(SHARED):
        return Path(os.environ[SHARED])
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    return root


if __name__ == "__main__":  # python -m tests.demo_home ROOT: made ahead of the tests
    made(Path(sys.argv[1]))
