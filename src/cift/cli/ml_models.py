"""``cift ml models``: the model registry (MLflow): list, show, promote."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import typer
from rich.table import Table

from cift.ml import tracking

from .console import console, print_json
from .context import cli_settings
from .render import frame_table

app = typer.Typer(help="Registered models: list, show versions and lineage, promote.")


@app.command("ls")
def ls_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List registered models with their newest version and aliases."""
    models = tracking.registered_models(cli_settings())
    if as_json:
        print_json(models)
        return
    rows = [
        {
            "model": m["name"],
            "latest": m["latest_version"],
            "aliases": ", ".join(f"{a}=v{v}" for a, v in m["aliases"].items()),
        }
        for m in models
    ]
    console.print(frame_table(pl.DataFrame(rows), title="Registered models") if rows else "none")


@app.command("show")
def show_command(
    name: str = typer.Argument(..., help="A registered model's name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every version of a model: aliases, out-of-sample metrics and its training run
    ('cift lineage show NAME/VERSION' walks from there to the data)."""
    versions = tracking.model_versions(cli_settings(), name)
    if as_json:
        print_json([v.to_dict() for v in versions])
        return
    table = Table(title=f"{name}")
    for column, width in (
        ("version", 7),
        ("aliases", 20),
        ("created", 10),
        ("oos auc", 7),
        ("oos ic", 7),
        ("dataset", 8),
        ("run", 8),
    ):
        table.add_column(column, min_width=width, overflow="fold")
    for v in versions:
        auc, ic = v.metrics.get("oos_auc", v.metrics.get("oos_r2")), v.metrics.get("oos_ic")
        table.add_row(
            str(v.version),
            ", ".join(v.aliases),
            datetime.fromtimestamp(v.created_ms / 1000, UTC).strftime("%Y-%m-%d"),
            *("—" if x is None else f"{x:.4f}" for x in (auc, ic)),
            v.run_id[:8],
        )
    console.print(table)


@app.command("promote")
def promote_command(
    name: str = typer.Argument(..., help="A registered model's name."),
    version: int = typer.Argument(..., help="The version to point the alias at."),
    alias: str = typer.Option(tracking.CHAMPION, help="champion or challenger."),
) -> None:
    """Make a version the champion (or the challenger); the model strategy trades the
    champion unless told otherwise."""
    tracking.promote(cli_settings(), name, version, alias)
    console.print(f"{name}: {alias} is now version {version}")
