"""The root ``cift`` command: version, command groups and error handling."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from cift import __version__
from cift.core.errors import CiftError

from . import (
    alerts,
    audit,
    backtest,
    config,
    data,
    db,
    demo,
    features,
    keys,
    lineage,
    ml,
    serve,
    stream,
    trade,
    users,
)
from .console import print_error
from .help import tidy_help


class CiftGroup(TyperGroup):
    """Root group: any CiftError from any command becomes one red line and its exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CiftError as exc:
            print_error(f"{exc.message} [{exc.code}]")
            raise typer.Exit(exc.exit_code) from None


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
app.add_typer(config.app, name="config")
app.add_typer(db.app, name="db")
app.add_typer(data.app, name="data")
app.add_typer(features.app, name="features")
app.add_typer(ml.app, name="ml")
app.add_typer(lineage.app, name="lineage")
app.add_typer(backtest.app, name="backtest")
app.add_typer(users.app, name="users")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(alerts.app, name="alerts")
app.add_typer(stream.app, name="stream")
app.add_typer(trade.app, name="trade")
app.command(name="serve")(serve.serve)
app.command(name="demo")(demo.demo)
tidy_help(app)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"cift {__version__}")
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
    app()
