"""Metadata databases at the newest schema, quickly.

The migrations run once per test process into a template (a SQLite file, a PostgreSQL
template database); each test's database starts as a copy of it, which takes a few
milliseconds instead of a few hundred. The migrations themselves run from an empty
database in ``tests/db``, and the template is rebuilt whenever a migration changes.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import psycopg
from sqlalchemy import URL, Engine

from cift.core.settings import Environment, Settings, load_settings
from cift.db import migrate
from cift.db.engine import create_db_engine, database_url

_templates: dict[str, str] = {}
"""Per server (or "sqlite"): the template built by this process, a file or a database."""


def migrated(settings: Settings) -> Settings:
    """``settings`` whose database is now at the newest schema: a new SQLite file is
    copied from the template; any other database is migrated (the ``postgres_database``
    fixture's is a copy of the template already, found at the newest schema at once)."""
    url = database_url(settings)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        target = Path(url.database)
        if not target.exists():
            settings.home.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_sqlite_template(), target)
            return settings
    upgrade(settings)
    return settings


def upgrade(settings: Settings) -> None:
    """Run the migrations on ``settings``' database itself."""
    engine = create_db_engine(settings)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def migrated_engine(settings: Settings) -> Engine:
    """An engine on ``settings``' database, copied from the template."""
    return create_db_engine(migrated(settings))


def _sqlite_template() -> Path:
    found = _templates.get("sqlite")
    if found is None:
        home = Path(tempfile.mkdtemp(prefix="cift-schema-"))
        atexit.register(shutil.rmtree, home, ignore_errors=True)
        template = load_settings(env=Environment.TEST, home=home)
        upgrade(template)  # the engine is disposed: the WAL is folded into the file
        found = _templates["sqlite"] = str(database_url(template).database)
    return Path(found)


def _admin(url: URL) -> str:
    """A libpq connection string to the server's maintenance database."""
    server = url.set(drivername="postgresql", database="postgres")
    return server.render_as_string(hide_password=False)


def create_postgres(url: URL, *, schema: bool = True) -> None:
    """Create the PostgreSQL database ``url`` names: a copy of the template (at the newest
    schema), or empty."""
    admin = _admin(url)
    copied = f' TEMPLATE "{_postgres_template(admin, url)}"' if schema else ""
    _execute(admin, f'CREATE DATABASE "{url.database}"{copied}')


def drop_postgres(url: URL) -> None:
    """Drop the PostgreSQL database ``url`` names, whoever is still connected."""
    _execute(_admin(url), f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')


def _postgres_template(admin: str, url: URL) -> str:
    """This process's migrated template database on ``url``'s server, made on first use."""
    template = _templates.get(admin)
    if template is None:
        template = f"cift_schema_{os.getpid()}_{secrets.token_hex(3)}"
        made = url.set(database=template)
        drop_postgres(made)
        create_postgres(made, schema=False)
        upgrade(load_settings(env=Environment.TEST, database_url=made.render_as_string(False)))
        atexit.register(_drop_at_exit, made)
        _templates[admin] = template
    return template


def _execute(admin: str, statement: str) -> None:
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(statement)  # type: ignore[arg-type]  # names made here, not input


def _drop_at_exit(url: URL) -> None:
    with contextlib.suppress(psycopg.Error):  # the server is down: its data folder goes too
        drop_postgres(url)
