"""Engines and sessions for the metadata database (SQLite by default, PostgreSQL at scale)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy
from sqlalchemy import Engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cift.core.errors import BackendUnavailableError, ConfigurationError
from cift.core.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 10_000


def database_url(settings: Settings) -> URL:
    """The configured metadata database URL, checked for a usable driver."""
    raw = settings.database_url_value()
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigurationError(
            "CIFT_DATABASE_URL is not a valid database URL; expected e.g. "
            "postgresql+psycopg://user:password@host:5432/cift"
        ) from None
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigurationError(
            f"CIFT_DATABASE_URL uses {url.get_backend_name()!r}; CIFT supports sqlite and "
            "postgresql (postgresql+psycopg://...)"
        )
    return url


def create_db_engine(settings: Settings) -> Engine:
    """Create the engine: SQLite gets WAL, foreign keys and a busy timeout."""
    url = database_url(settings)
    kwargs: dict[str, Any] = {"echo": False, "future": True}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            settings.home.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs.update(
            pool_size=settings.database_pool_size,
            pool_pre_ping=True,
            connect_args={"connect_timeout": max(1, int(settings.health_timeout_seconds))},
        )
    try:
        engine = sqlalchemy.create_engine(url, **kwargs)  # traced when tracing is on
    except NoSuchModuleError:
        raise ConfigurationError(
            f"No driver for {url.drivername!r} is installed; for PostgreSQL install the "
            "'postgres' extra: pip install 'cift[postgres]'"
        ) from None
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    with factory() as session, session.begin():
        yield session


def ping(engine: Engine) -> None:
    """Round-trip ``SELECT 1``; raise BackendUnavailableError naming the database if down."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise BackendUnavailableError(
            f"The metadata database at {engine.url.render_as_string(hide_password=True)} "
            f"cannot be reached ({_first_line(exc.orig)}). Check CIFT_DATABASE_URL and "
            "that the server is running."
        ) from exc


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
