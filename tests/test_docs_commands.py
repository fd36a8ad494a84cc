"""The documentation's command blocks run against the demo's data, so they cannot drift.

A fenced block right after the line ``<!-- cift:run -->`` runs: each ``cift`` command in
it, in the page's order, in a folder of its own that starts with what ``cift demo``
stored and has ``../shared`` beside it, as in a checkout. Each command must exit 0 and
print something.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cift.cli.app import app
from tests.demo_home import demo_home as shared_demo_home

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MARKER = "<!-- cift:run -->"
BLOCK = re.compile(rf"^{re.escape(MARKER)}\n```(?:bash|sh)\n(.*?)^```", re.M | re.S)
SHELL = {"|", "||", "&", "&&", ";", ">", ">>", "<"}
PAGES = sorted(
    p for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")] if MARKER in p.read_text()
)
runner = CliRunner()


def commands(page: Path) -> list[tuple[int, str]]:
    """``(line, command)`` of every command in the page's marked blocks."""
    text = page.read_text()
    found = []
    for block in BLOCK.finditer(text):
        first = text.count("\n", 0, block.start(1)) + 1
        joined = block.group(1).replace("\\\n", "  ")
        for offset, line in enumerate(joined.splitlines()):
            if line.strip() and not line.lstrip().startswith("#"):
                found.append((first + offset, line.strip()))
    return found


def test_every_marker_opens_a_block() -> None:
    marked = {
        page: len(re.findall(rf"^{re.escape(MARKER)}$", page.read_text(), re.M)) for page in PAGES
    }
    opened = {page: len(BLOCK.findall(page.read_text())) for page in PAGES}
    assert marked == opened
    assert sum(len(commands(page)) for page in PAGES) >= 40


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What ``cift demo`` stores and records, made once for the whole run."""
    return shared_demo_home(tmp_path_factory)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_the_commands_of_the_page_run(
    page: Path, demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    shutil.copytree(demo_home, work / ".cift")
    (tmp_path / "shared").symlink_to(SHARED)
    monkeypatch.chdir(work)
    # The pages' sweeps on a local cluster of one worker process (tests/backtest runs
    # them on several): each process to start costs seconds on a busy machine.
    monkeypatch.setenv("CIFT_DASK_LOCAL_WORKERS", "1")
    for line, command in commands(page):
        where = f"{page.name}:{line}: {command}"
        args = shlex.split(command, comments=True)
        assert args[0] == "cift", f"{where}: only cift commands run"
        assert not SHELL & set(args), f"{where}: no shell operators in a block that runs"
        result = runner.invoke(app, args[1:])
        assert result.exit_code == 0, f"{where}\nexit {result.exit_code}\n{result.output}"
        assert result.stdout.strip(), f"{where}: printed nothing"
