"""bandit over the source tree: any finding not documented below fails the build."""

from __future__ import annotations

import json
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = {
    ("B101", "src/cift/*"): "asserts narrow types for mypy after a check that cannot fail; "
    "user input is validated with CiftError subclasses, never with assert",
    ("B608", "src/cift/data/store/embedded/catalog.py"): "SQL built from constants; every "
    "value is bound with ? placeholders",
    ("B608", "src/cift/data/store/questdb/*.py"): "identifiers pass through ddl.quote, values "
    "are bound (%s) or formatted from ints and validated symbols",
    ("B105", "src/cift/core/settings.py"): "ENV_PREFIX ('CIFT_') and the refused development "
    "default are not credentials",
    ("B311", "src/cift/data/providers/live/socket.py"): "the jitter of reconnect delays, "
    "not a secret",
    ("B404", "src/cift/core/version.py"): "runs git (fixed arguments, no shell) to name the "
    "commit a result was produced by",
    ("B603", "src/cift/core/version.py"): "the same fixed git commands, no user input",
    ("B607", "src/cift/core/version.py"): "git from the PATH, as a developer's checkout has it",
}
"""(bandit test id, path pattern) -> why the finding is not a vulnerability."""


def test_bandit_has_no_undocumented_findings() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", "src", "-f", "json", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(run.stdout)
    assert not report["errors"], report["errors"]
    undocumented = [
        f"{r['test_id']} {r['filename']}:{r['line_number']} {r['issue_text']}"
        for r in report["results"]
        if not any(
            r["test_id"] == test and fnmatch(r["filename"], pattern) for test, pattern in DOCUMENTED
        )
    ]
    assert undocumented == []
