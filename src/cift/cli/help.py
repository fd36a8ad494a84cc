"""How ``--help`` reads: prose reflows to the terminal, examples keep their lines, and
flags show no value type.

Typer keeps every line break of a docstring after its first paragraph, so prose written
at 88 columns broke mid-sentence in an 80-column terminal; and it labels every flag
``<bool>``, as if it took a value.
"""

from __future__ import annotations

import inspect
from typing import Any

import typer
from typer.core import TyperOption

_value_type = TyperOption.display_type_rich


def _flag_type(option: TyperOption, ctx: Any) -> str | None:
    return None if option.is_flag else _value_type(option, ctx)


TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign,assignment]


def is_example(paragraph: str) -> bool:
    """Whether a paragraph shows commands (an indented line, or one that runs ``cift``)."""
    return any(line.startswith((" ", "cift ")) for line in paragraph.splitlines())


def reflow(text: str) -> str:
    """Each prose paragraph of ``text`` on one line; an example as written."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(
        paragraph if is_example(paragraph) else " ".join(paragraph.split())
        for paragraph in paragraphs
    )


def tidy_help(app: typer.Typer) -> None:
    """Reflow the help of ``app``, its commands and its command groups, recursively."""
    if app.info.help:
        app.info.help = reflow(str(app.info.help))
    for command in app.registered_commands:
        text = command.help or (command.callback.__doc__ if command.callback else None)
        if text:
            command.help = reflow(text)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            tidy_help(group.typer_instance)
