"""Running ``cift`` commands in-process as a user types them."""

from __future__ import annotations

from typer.testing import CliRunner

from cift.cli.app import app

runner = CliRunner()


def cift(*args: str, code: int = 0) -> str:
    """The command's output; it must exit with ``code`` (stdout on success, else all)."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.output
