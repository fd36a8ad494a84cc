"""The command line: help everywhere, masked config, clean errors, schema commands."""

from __future__ import annotations

import inspect
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

import cift
from cift.cli.app import app, load
from cift.cli.entries import ENTRIES
from cift.cli.help import is_example
from cift.core.errors import ConfigurationError
from cift.core.settings import load_settings
from cift.db.engine import create_db_engine, session_factory
from cift.db.models.ledger import TradingHalt
from tests.fresh import fresh_python
from tests.samples import NVDA
from tests.serving import held_port

runner = CliRunner()


def _subcommands(command: Any) -> dict[str, Any]:
    """A group's commands, through Click's own interface (the root loads them then)."""
    if not hasattr(command, "list_commands"):
        return {}
    ctx = typer.Context(command)
    found = {name: command.get_command(ctx, name) for name in command.list_commands(ctx)}
    return {name: sub for name, sub in found.items() if sub is not None}


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]

    def walk(command: Any, prefix: list[str]) -> None:
        for name, sub in _subcommands(command).items():
            paths.append([*prefix, name])
            walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "cift")
def test_every_command_has_help_text(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) > 3
    assert "<bool>" not in result.output  # a flag takes no value, so shows no type


def _command(path: list[str]) -> Any:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = _subcommands(command)[name]
    return command


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "cift")
def test_help_prose_reflows_and_examples_keep_their_lines(path: list[str]) -> None:
    """On a wide terminal each prose paragraph is one line (a narrow one wraps it where
    it must, not where the source did); example lines are kept as written."""
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "1000"})
    lines = [line.strip() for line in result.output.splitlines()]
    command = _command(path)
    source = command.help if hasattr(command, "commands") else command.callback.__doc__
    for paragraph in inspect.cleandoc(source or "").split("\n\n"):
        if "[" in paragraph:  # Rich markup, rendered differently
            continue
        if is_example(paragraph):
            shown = [line.strip() for line in paragraph.splitlines()]
            assert all(line in lines for line in shown), paragraph
        else:
            assert " ".join(paragraph.split()) in lines, paragraph


def test_command_tree_covers_the_foundation() -> None:
    names = {" ".join(path) for path in _command_paths()}
    expected = {"serve", "config show", "config docs", "db upgrade", "db downgrade", "db current"}
    assert expected <= names


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"cift {metadata.version('cift')}"


def test_the_version_is_read_only_when_asked_for() -> None:
    """Importing cift costs no package-metadata lookup; ``cift.__version__`` still works."""
    script = (
        "import sys, cift\nprint('importlib.metadata' in sys.modules)\nprint(cift.__version__)\n"
    )
    assert fresh_python(script) == ["False", metadata.version("cift")]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        cift.nope  # noqa: B018


def test_config_show_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIFT_SECRET_KEY", "very-secret-value")
    monkeypatch.setenv("CIFT_REDIS_URL", "redis://:r3dispw@cache:6379/0")
    result = runner.invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["CIFT_SECRET_KEY"] == "********"
    assert shown["CIFT_REDIS_URL"] == "redis://:********@cache:6379/0"
    assert "very-secret-value" not in result.output
    table = runner.invoke(app, ["config", "show"])
    assert "very-secret-value" not in table.output
    assert "CIFT_PORT" in table.output


def test_malformed_setting_is_one_red_line_and_a_config_exit_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIFT_PORT", "abc")
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 78
    assert "CIFT_PORT" in result.output
    assert "integer" in result.output
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0


def test_db_upgrade_current_downgrade_on_the_embedded_database(tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "current", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["current"] is None

    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".cift" / "cift.db").is_file()
    report = json.loads(runner.invoke(app, ["db", "current", "--json"]).output)
    assert report["up_to_date"] is True
    assert report["current"] == report["head"]

    declined = runner.invoke(app, ["db", "downgrade", "base"], input="n\n")
    assert declined.exit_code != 0
    assert json.loads(runner.invoke(app, ["db", "current", "--json"]).output)["up_to_date"]

    result = runner.invoke(app, ["db", "downgrade", "base", "--yes"])
    assert result.exit_code == 0, result.output
    assert json.loads(runner.invoke(app, ["db", "current", "--json"]).output)["current"] is None


def test_db_upgrade_to_unknown_revision_is_a_validation_error() -> None:
    result = runner.invoke(app, ["db", "upgrade", "zzz"])
    assert result.exit_code == 2
    assert "zzz" in result.output
    assert "Traceback" not in result.output


def test_db_history_lists_the_initial_migration() -> None:
    result = runner.invoke(app, ["db", "history"])
    assert result.exit_code == 0
    assert "0001" in result.output


@pytest.mark.parametrize(
    ("url", "exit_code", "says"),
    [
        ("postgresql+psycopg://cift@127.0.0.1:1/cift", 69, "cannot be reached"),
        ("mysql://root@127.0.0.1/test", 78, "sqlite and postgresql"),
    ],
    ids=["unreachable", "unsupported"],
)
def test_database_url_problems_are_clear_errors(
    monkeypatch: pytest.MonkeyPatch, url: str, exit_code: int, says: str
) -> None:
    monkeypatch.setenv("CIFT_DATABASE_URL", url)
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == exit_code
    assert says in result.output
    assert "CIFT_DATABASE_URL" in result.output
    assert "Traceback" not in result.output


def test_the_root_lists_each_command_as_its_own_help_begins() -> None:
    """``cift --help`` reads its list from the entries, without importing a command; a
    command's own help is its docstring, whose first paragraph must match (a group's
    help is read from the entry itself)."""
    commands = {name: entry for name, entry in ENTRIES.items() if entry.function is not None}
    assert set(commands) == {"serve", "demo"}
    for name, entry in commands.items():
        command = load(name)
        first = inspect.cleandoc(command.help or "").split("\n\n")[0]
        assert " ".join(first.split()) == entry.summary, name


def _after(report: str, *args: str, env: dict[str, str] | None = None) -> str:
    """What ``report`` (an expression over ``sys.modules``) prints once ``cift *args`` has
    run in a fresh interpreter (with ``env``, else this process's environment)."""
    return _printed_and_after(report, *args, env=env)[1]


def _printed_and_after(
    report: str, *args: str, env: dict[str, str] | None = None
) -> tuple[list[str], str]:
    """What ``cift *args`` printed in a fresh interpreter, and then ``report``."""
    script = (
        "import sys\n"
        "from cift.cli.app import main\n"
        "from cift.cli.entries import ENTRIES\n"
        "sys.argv = ['cift', *sys.argv[1:]]\n"
        "try:\n    main()\n"
        f"finally:\n    print({report})\n"
    )
    *printed, after = fresh_python(script, *args, check=False, env=env)
    return printed, after


def test_the_root_help_imports_no_command_and_a_command_only_its_own() -> None:
    report = (
        "sorted({m for m in sys.modules if m.startswith('cift.cli.')} "
        "& {f'cift.cli.{n}' for n in ENTRIES}), "
        "sorted(m for m in ('numba', 'pandas', 'polars', 'sqlalchemy') if m in sys.modules)"
    )
    assert _after(report, "--help") == "[] []"
    assert _after(report, "config", "--help") == "['cift.cli.config'] []"
    assert _after(report, "dat") == "[] []"  # a typo is answered with a suggestion, not imports


def test_a_stream_stage_loads_neither_the_kernels_nor_the_alert_checks() -> None:
    """Each stage runs as its own process, started and restarted on its own: the store
    stage needs neither numba (features) nor the alert checks and their database."""
    report = (
        "sorted(m for m in ('numba', 'cift.execution.alerts', 'cift.db.migrate') "
        "if m in sys.modules)"
    )
    assert _after(report, "stream", "store", "--help") == "[]"


def test_the_admin_commands_load_no_market_data_library(tmp_path: Path) -> None:
    """Users, keys and the audit log touch no market data: they start without Polars
    (a sixth of their start-up) and without numba."""
    env = {**os.environ, "CIFT_HOME": str(tmp_path)}
    report = "sorted(m for m in ('numba', 'polars') if m in sys.modules)"
    for command in (["users", "ls"], ["keys", "ls", "--user", "local"], ["audit", "ls"]):
        assert _after(report, *command, env=env) == "[]", command
    assert (tmp_path / "cift.db").exists()  # the commands ran, on the database of the home


def test_the_kill_switch_and_the_ledger_start_without_the_engine(tmp_path: Path) -> None:
    """``cift trade halt``, ``reset`` and the ledger listings load neither numba nor the
    simulator: only ``trade run`` and ``trade parity`` need them."""
    env = {**os.environ, "CIFT_HOME": str(tmp_path)}
    report = (
        "sorted(m for m in ('numba', 'cift.data.providers.synthetic', 'cift.backtest.engine') "
        "if m in sys.modules)"
    )
    for command in (
        ["trade", "halt", "--all", "--reason", "drill"],
        ["trade", "reset", "--all"],
        ["trade", "accounts"],
        ["trade", "runs"],
    ):
        assert _after(report, *command, env=env) == "[]", command
    engine = create_db_engine(load_settings(home=tmp_path))
    with session_factory(engine)() as session:
        (halt,) = session.scalars(select(TradingHalt)).all()  # the commands did their work
    engine.dispose()
    assert (halt.reason, halt.reset_at is not None) == ("drill", True)


def test_recorded_backtests_are_listed_and_shown_without_the_engine(tmp_path: Path) -> None:
    """``cift backtest ls``, ``show`` and ``report`` read records: numba and the engine
    load only in the commands that run a backtest or a search."""
    env = {**os.environ, "CIFT_HOME": str(tmp_path)}
    ran = runner.invoke(
        app, ["backtest", "run", "sma_cross", "--data", str(NVDA), "--json"], env=env
    )
    assert ran.exit_code == 0, ran.output
    run_id = json.loads(ran.stdout)["id"]
    report = "sorted(m for m in ('numba', 'cift.backtest.engine') if m in sys.modules)"
    for command in (["ls", "--json"], ["show", run_id[:13], "--json"], ["report", run_id]):
        printed, after = _printed_and_after(report, "backtest", *command, env=env)
        assert after == "[]", command
        assert run_id in "".join(printed), command  # each found the run


def test_a_misspelt_command_gets_the_closest_name() -> None:
    result = runner.invoke(app, ["dta", "ls"])
    assert result.exit_code == 2
    assert "No such command 'dta'" in result.output
    assert "Did you mean 'data'?" in result.output


METRICS_PORT_COMMANDS = [
    ["data", "backfill", "--provider", "synthetic", "--symbols", "AAA", "--start",
     "2024-01-02", "--end", "2024-01-02"],
    ["backtest", "sweep", "sma_cross", "--data", "bars.csv", "--grid", "fast=5"],
    ["backtest", "walkforward", "sma_cross", "--data", "bars.csv", "--grid", "fast=5",
     "--train", "750", "--test", "250"],
]  # fmt: skip


@pytest.mark.parametrize(
    "command", METRICS_PORT_COMMANDS, ids=lambda command: " ".join(command[:2])
)
def test_a_busy_metrics_port_is_one_clear_line(command: list[str]) -> None:
    with held_port() as busy:
        result = runner.invoke(app, [*command, "--metrics-port", str(busy)])
    assert result.exit_code == ConfigurationError.exit_code, result.output
    assert f"Cannot serve metrics on 127.0.0.1:{busy}" in result.output
    assert "Pick another --metrics-port" in result.output
    assert "Traceback" not in result.output
