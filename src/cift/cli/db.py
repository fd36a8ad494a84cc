"""``cift db``: create, upgrade, downgrade and inspect the metadata database schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.table import Table
from sqlalchemy import Engine

from cift.core.logging import configure_logging
from cift.core.settings import load_settings
from cift.db import migrate
from cift.db.engine import create_db_engine

from .console import console, print_json
from .entries import summary

app = typer.Typer(help=summary("db"))


@contextmanager
def _engine() -> Iterator[Engine]:
    settings = load_settings()
    configure_logging(settings)
    engine = create_db_engine(settings)
    try:
        yield engine
    finally:
        engine.dispose()


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


@app.command("upgrade")
def upgrade(
    revision: str = typer.Argument("head", help="Target revision: 'head' (newest) or an id."),
) -> None:
    """Create the database if needed and apply migrations up to REVISION."""
    with _engine() as engine:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine, revision)
        after = migrate.current_revision(engine)
        console.print(f"{_where(engine)}: {before or 'empty'} -> {after or 'empty'}")


@app.command("downgrade")
def downgrade(
    revision: str = typer.Argument(
        ..., help="Target revision: an id, a relative step such as -1, or 'base' (drop all)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Revert migrations down to REVISION. Tables created by later migrations are dropped."""
    with _engine() as engine:
        before = migrate.current_revision(engine)
        if not yes:
            typer.confirm(
                f"Downgrade {_where(engine)} from {before or 'empty'} to {revision}? "
                "Data in dropped tables is lost",
                abort=True,
            )
        migrate.downgrade(engine, revision)
        after = migrate.current_revision(engine)
        console.print(f"{_where(engine)}: {before or 'empty'} -> {after or 'empty'}")


@app.command("current")
def current(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Show the revision the database is at and whether it is the newest."""
    with _engine() as engine:
        revision = migrate.current_revision(engine)
        head = migrate.head_revision()
        report = {
            "database": _where(engine),
            "current": revision,
            "head": head,
            "up_to_date": revision == head,
        }
    if as_json:
        print_json(report)
        return
    state = "up to date" if revision == head else f"behind head {head}: run 'cift db upgrade'"
    console.print(f"{report['database']}: {revision or 'empty'} ({state})")


@app.command("history")
def history() -> None:
    """List every migration shipped with this version, newest first."""
    from alembic.script import ScriptDirectory

    table = Table(title="Migrations")
    table.add_column("Revision", style="cyan")
    table.add_column("Down from")
    table.add_column("Description")
    for script in ScriptDirectory(str(migrate.MIGRATIONS_DIR)).walk_revisions():
        down = script.down_revision
        table.add_row(script.revision, str(down) if down else "base", script.doc or "")
    console.print(table)


@app.command("revision")
def revision(
    message: str = typer.Option(..., "--message", "-m", help="What the migration changes."),
) -> None:
    """Write a new migration from the difference between the models and the database.

    For developers changing cift/db/models: upgrade a scratch database to head, edit
    the models, run this, then review the generated file before committing it.
    """
    with _engine() as engine:
        path = migrate.new_revision(engine, message)
    console.print(f"wrote {path}")
