"""The supply-chain checks of the Makefile: bandit in ``make lint`` and ``make test``
skips exactly what the static-analysis test documents (which runs bandit and finds
nothing else, so the configured run passes: ``make test`` runs it before the tests);
``make test`` installs the checking tools; ``make sbom`` and ``make audit`` read the pinned
dependencies."""

from __future__ import annotations

import re
import subprocess
import tomllib

from tests.deploy.conftest import ROOT
from tests.security.test_static_analysis import DOCUMENTED

MAKEFILE = (ROOT / "Makefile").read_text()


def recipe(target: str) -> tuple[list[str], list[str]]:
    """A Makefile target's prerequisites and its recipe lines."""
    match = re.search(rf"^{target}:([^#\n]*)(?:##[^\n]*)?\n((?:\t[^\n]*\n)*)", MAKEFILE, re.M)
    assert match, f"no target {target} in the Makefile"
    return match[1].split(), [line.strip() for line in match[2].splitlines()]


def bandit_command() -> list[str]:
    (line,) = re.findall(r"^BANDIT := \$\(BIN\)/python (.*)$", MAKEFILE, re.M)
    return line.split()


def test_bandit_skips_exactly_the_documented_findings() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["bandit"]
    assert sorted(config["skips"]) == sorted({test for test, _ in DOCUMENTED})


def test_lint_and_test_run_bandit_with_the_documented_skips() -> None:
    for target in ("lint", "test"):
        lines = recipe(target)[1]
        assert any("$(BANDIT)" in line for line in lines), f"make {target} does not run bandit"
    assert bandit_command() == ["-m", "bandit", "-r", "src", "-q", "-c", "pyproject.toml"]


def test_make_test_installs_every_checking_tool_before_the_tests() -> None:
    """Debian's packages one after another (the browser, then promtool: apt installs one
    set at a time); the long steps in the background, each waited for (its failure
    failing ``make test``) before the tests: the dashboard's build and checks from the
    start, beside the Python install; mypy and the kernels' compile once it is done; the
    Go-built tools."""
    prerequisites, lines = recipe("test")
    assert prerequisites.index("dashboard") < prerequisites.index("dev")
    assert prerequisites.index("go-tools") < prerequisites.index("browser")
    assert lines[0] == "$(PYTHON) deploy/local/tools.py prometheus"
    (started,) = re.findall(r"^started = (.*)$", MAKEFILE, re.M)
    assert started.endswith(") &")  # in the background
    background = {
        name: command
        for target in prerequisites
        for name, command in re.findall(
            r"\$\(call started,([\w-]+),(.*)\)$", "\n".join(recipe(target)[1]), re.M
        )
    }
    assert background == {
        "dashboard": "$(MAKE) --no-print-directory web web-check",
        "compile": "$(BIN)/cift features compile",
        "types": "$(BIN)/mypy src deploy/local",
        "go-tools": "$(PYTHON) deploy/local/tools.py actionlint compose",
    }
    assert "dev" in recipe("types")[0]
    assert "dev" in recipe("kernels")[0]
    tests = [n for n, line in enumerate(lines) if "run_tests.py" in line]
    assert tests
    for name in background:
        waited = [n for n, line in enumerate(lines) if line == f"@$(call awaited,{name})"]
        assert waited, f"make test does not wait for {name}"
        assert max(waited) < tests[0]
    assert recipe("tools")[1] == ["$(PYTHON) deploy/local/tools.py"]


def test_sbom_and_audit_read_the_pinned_dependencies() -> None:
    sbom = " ".join(recipe("sbom")[1])
    assert "cyclonedx-py requirements $(CONSTRAINTS)" in sbom
    assert "sbom.cdx.json" in sbom
    assert "$(CONSTRAINTS)" in " ".join(recipe("audit")[1])
    for path in ("sbom.cdx.json", ".tools/bin/actionlint", ".sbom-venv/bin/python"):
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"git does not ignore {path}"
