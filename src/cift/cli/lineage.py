"""``cift lineage``: from the bars a model saw to the backtests that traded it."""

from __future__ import annotations

import typer
from rich.tree import Tree

from cift.lineage.record import Node, lineage

from .console import console, print_json
from .context import metadata_db, owner_id
from .entries import summary

app = typer.Typer(help=summary("lineage"))


def _label(node: Node) -> str:
    shown = {k: v for k, v in node.details.items() if v not in (None, "", [], {})}
    extra = ", ".join(f"{k}={v}" for k, v in shown.items() if k not in ("params", "metrics"))
    ident = node.id if len(node.id) <= 40 else f"{node.id[:16]}…"
    return f"[bold]{node.kind}[/] {ident}" + (f" [dim]({extra})[/]" if extra else "")


@app.command("show")
def show_command(
    ref: str = typer.Argument(
        ...,
        help="A backtest id, a live trading run id, NAME/VERSION or NAME@alias of a model, "
        "an MLflow run id, a configuration id, dataset:HASH or data:HASH.",
    ),
    user: str = typer.Option("local", "--user", help="Owner: username, e-mail or id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Walk the lineage record around REF: back to the data, forward to what used it.

    cift lineage show 01a23f35        # a backtest: its model, run, dataset, data
    cift lineage show trend@champion  # a model: where it came from, which backtests used it
    cift lineage show 01a2493d-7134-7fa3-8af1-96d8f8644fe3  # a live run: back to its data
    """
    with metadata_db() as (settings, db):
        record = lineage(settings, db, owner_id(db, user), ref)
    if as_json:
        print_json(record.to_dict())
        return
    tree = Tree(_label(record.subject))
    if record.upstream:
        branch = tree.add("[cyan]made from[/]")
        for node in record.upstream:
            branch = branch.add(_label(node))
    if record.downstream:
        used = tree.add("[green]used by[/]")
        for node in record.downstream:
            used.add(_label(node))
    console.print(tree)
