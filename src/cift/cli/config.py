"""``cift config``: inspect the effective settings and regenerate their documentation."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cift.core.settings import load_settings
from cift.core.settings_docs import effective_settings, render_env_example, render_markdown

from .console import console, print_json
from .entries import summary
from .metrics_docs import write_metrics_table

app = typer.Typer(help=summary("config"))


@app.command("show")
def show(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Print every setting's effective value and where it came from; secrets are masked.

    Values come from CIFT_* environment variables, then a .env file in the current
    folder, then the defaults.
    """
    rows = effective_settings(load_settings())
    if as_json:
        print_json({row.env_var: row.value for row in rows})
        return
    table = Table(title="Effective CIFT settings", show_lines=False)
    table.add_column("Variable", style="cyan", no_wrap=True)
    table.add_column("Value", overflow="fold")
    table.add_column("Source", style="dim")
    for row in rows:
        table.add_row(row.env_var, row.value, row.source)
    console.print(table)


@app.command("docs")
def docs(
    markdown: Path = typer.Option(
        Path("docs/configuration.md"), help="Where to write the settings reference."
    ),
    env_example: Path = typer.Option(
        Path(".env.example"), help="Where to write the annotated .env template."
    ),
    operations: Path = typer.Option(
        Path("docs/operations.md"), help="The page whose metrics table is rewritten."
    ),
) -> None:
    """Regenerate docs/configuration.md and .env.example from the settings model, and
    the metrics table of docs/operations.md from the metrics registry."""
    markdown.write_text(render_markdown(), encoding="utf-8")
    env_example.write_text(render_env_example(), encoding="utf-8")
    write_metrics_table(operations)
    console.print(f"wrote {markdown}, {env_example} and the metrics of {operations}")
