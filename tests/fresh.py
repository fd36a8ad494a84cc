"""Run a snippet in a new Python process: what a module imports or leaves behind can only
be seen in an interpreter that has imported nothing yet."""

from __future__ import annotations

import subprocess
import sys


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
