"""Console output shared by every command: Rich for people, JSON on request."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape

console = Console()
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """Print a JSON document to stdout (machine-readable, no colour)."""
    console.out(json.dumps(data, indent=2, default=str), highlight=False)


def print_error(message: str) -> None:
    """One red line on stderr."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
