"""Metadata databases at the newest schema, quickly.

The migrations run once per test process into a template (a SQLite file, a PostgreSQL
template database); each test's database starts as a copy of it, which takes a few
milliseconds instead of a few hundred. The migrations themselves run from an empty
database in ``tests/db``, and the template is rebuilt whenever a migration changes.
"""

from __future__ import annotations

import atexit
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
_copies: set[tuple[str, str | None]] = set()
"""(server, database) of the databases this process made as copies of a template."""


def migrated(settings: Settings) -> Settings:
    """``settings`` whose (new, empty) database is now at the newest schema."""
    url = database_url(settings)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        target = Path(url.database)
        if not target.exists():
            settings.home.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_sqlite_template(), target)
            return settings
    elif url.get_backend_name() == "postgresql" and url.database:
        _copy_postgres(url)
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


def _copy_postgres(url: URL) -> None:
    """Replace the empty database ``url`` names with a copy of the template (unless it
    was made as one)."""
    admin = _admin(url)
    if (admin, url.database) in _copies:
        return
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
    create_postgres_copy(url)


def create_postgres_copy(url: URL) -> None:
    """Create the PostgreSQL database ``url`` names as a copy of the template: a new
    database at the newest schema."""
    admin = _admin(url)
    template = _templates.get(admin)
    if template is None:
        template = f"cift_schema_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{template}"')
            conn.execute(f'CREATE DATABASE "{template}"')
        engine_url = url.set(database=template).render_as_string(hide_password=False)
        upgrade(load_settings(env=Environment.TEST, database_url=engine_url))
        atexit.register(_drop, admin, template)
        _templates[admin] = template
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{url.database}" TEMPLATE "{template}"')
    _copies.add((admin, url.database))


def _drop(admin: str, database: str) -> None:
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    except psycopg.Error:
        pass  # the server is already down: its data folder goes with it
