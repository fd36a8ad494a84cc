"""Console output shared by every command: Rich for people, JSON on request."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

PIPED_WIDTH = 10_000
"""Columns given to output that is piped or redirected: wide enough that no table cuts
a value (a table still takes only the width it needs)."""


def _width() -> int | None:
    """The terminal's own width on a terminal (or COLUMNS when set), else PIPED_WIDTH."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return None
    return PIPED_WIDTH


console = Console(width=_width())
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """Print a JSON document to stdout (machine-readable, no colour)."""
    console.out(json.dumps(data, indent=2, default=str), highlight=False)


def print_error(message: str) -> None:
    """One red line on stderr."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
