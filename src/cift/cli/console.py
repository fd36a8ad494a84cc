"""Console output shared by every command: Rich for people, JSON on request."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

PIPED_WIDTH = 10_000
"""Columns given to output that is piped or redirected: wide enough that no table cuts
a value (a table still takes only the width it needs)."""


def _width() -> int | None:
    """The terminal's own width on a terminal (or COLUMNS when set), else PIPED_WIDTH."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return None
    return PIPED_WIDTH


SHORT = 18
"""Columns whose every value (and heading) is at most this wide keep their full width."""
FOLDED = 8
"""The narrowest a column of longer values (times, ids, paths) gets: they wrap instead."""


def fitted(table: Table, width: int) -> Table:
    """``table`` laid out for ``width`` columns with no value cut by an ellipsis: columns
    of short values (kinds, symbols, counts) keep their width, longer values wrap onto
    more lines, and the rightmost columns that still do not fit are left out, saying so."""
    needed = 1  # the left rule
    for index, column in enumerate(table.columns):
        widest = max(_cell_width(cell) for cell in [*column.cells, column.header])
        column.no_wrap = widest <= SHORT
        column.overflow = "fold"
        column.min_width = widest if widest <= SHORT else min(widest, FOLDED)
        needed += column.min_width + 3  # padding and the rule after it
        if needed > width and index > 0:
            left_out = [str(c.header) for c in table.columns[index:]]
            table.columns = table.columns[:index]
            table.caption = (
                f"Left out at this width: {', '.join(left_out)} (a wider terminal, a pipe "
                "or --json shows every column)."
            )
            break
    return table


def _cell_width(cell: object) -> int:
    """A cell's width as printed (markup counted as text: a little wide, never an error)."""
    return cell.cell_len if isinstance(cell, Text) else Text(str(cell)).cell_len


class CiftConsole(Console):
    """A console that lays tables out with :func:`fitted`."""

    def print(self, *objects: Any, **options: Any) -> None:
        shown = (fitted(o, self.width) if isinstance(o, Table) else o for o in objects)
        super().print(*shown, **options)


console = CiftConsole(width=_width())
err_console = Console(stderr=True)


def print_json(data: Any) -> None:
    """Print a JSON document to stdout (machine-readable, no colour)."""
    console.out(json.dumps(data, indent=2, default=str), highlight=False)


def print_error(message: str) -> None:
    """One red line on stderr."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
