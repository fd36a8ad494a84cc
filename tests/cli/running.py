"""Running ``cift`` commands in-process as a user types them."""

from __future__ import annotations

import traceback

from typer.testing import CliRunner

from cift.cli.app import app

runner = CliRunner()


def cift(*args: str, code: int = 0) -> str:
    """The command's output; it must exit with ``code`` (stdout on success, else all).
    An unexpected exit shows the output and, for an exception, its traceback."""
    result = runner.invoke(app, list(args))
    if result.exit_code != code:
        raised = result.exception
        crashed = raised is not None and not isinstance(raised, SystemExit)
        trace = "".join(traceback.format_exception(raised)) if crashed else ""
        raise AssertionError(f"exit {result.exit_code} (wanted {code})\n{result.output}{trace}")
    return result.stdout if code == 0 else result.output
