"""The root ``cift`` command: version, command groups and error handling."""

from __future__ import annotations

import gc
import importlib
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_group
from typer.models import CommandInfo

import cift
from cift.core.errors import CiftError

from .console import print_error
from .entries import ENTRIES
from .help import reflow, tidy_help

LISTING = "cift.listing"
"""Set in the context while the root's help lists its commands."""
GC_YOUNG_THRESHOLD = 10_000
"""Allocations between two collections of the youngest objects (Python's default: 700)."""


class CiftGroup(TyperGroup):
    """Root group: each command is imported when it is run (or its help asked for), and
    any CiftError from any command becomes one red line and its exit code."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(ENTRIES)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in ENTRIES:
            if ctx.meta.get(LISTING):
                return TyperCommand(cmd_name, help=ENTRIES[cmd_name].summary)
            self.commands[cmd_name] = load(cmd_name)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        ctx.meta[LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            del ctx.meta[LISTING]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in ENTRIES:
            # Not a command: Typer suggests the closest of those it holds, so hold them
            # all (as names only: this invocation ends in the error).
            for name in ENTRIES:
                self.commands.setdefault(name, TyperCommand(name))
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CiftError as exc:
            print_error(f"{exc.message} [{exc.code}]")
            raise typer.Exit(exc.exit_code) from None


def load(name: str) -> Any:
    """The root command ``name``, imported now: its module's ``app`` group, or the one
    function the entry names."""
    entry = ENTRIES[name]
    module = importlib.import_module(entry.module)
    if entry.function is not None:
        function = getattr(module, entry.function)
        info = CommandInfo(name=name, callback=function, help=reflow(function.__doc__ or ""))
        return get_command_from_info(info, pretty_exceptions_short=True, rich_markup_mode="rich")
    group: typer.Typer = module.app
    tidy_help(group)
    command = get_group(group)
    command.name = name
    return command


app = typer.Typer(
    name="cift",
    cls=CiftGroup,
    help="CIFT Markets: market data, features, models, backtests and trading in one tool.\n\n"
    "Start with 'cift serve' for the API; every command has --help.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
tidy_help(app)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"cift {cift.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        help="Print the installed CIFT version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """CIFT Markets command line."""


def main() -> None:
    """Console-script entry point."""
    # A command's imports leave some 200,000 long-lived objects; collecting after every
    # 700 allocations (Python's default) spent a tenth of a start walking them again.
    gc.set_threshold(GC_YOUNG_THRESHOLD)
    app()
