"""The code a result was produced by: the package version and, in a checkout, its commit."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

from cift import __version__

SOURCE = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    return subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        ["git", *args],  # noqa: S607 (git from the PATH)
        cwd=SOURCE,
        capture_output=True,
        text=True,
        timeout=5,
        check=True,
    ).stdout.strip()


@lru_cache(maxsize=1)
def code_version() -> str:
    """``0.1.0`` installed from a wheel; ``0.1.0+g1a2b3c4d`` (``.dirty`` with uncommitted
    changes) when running from a git checkout."""
    try:
        commit = _git("rev-parse", "--short=10", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no", "--", ".")
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}{'.dirty' if changed else ''}"
