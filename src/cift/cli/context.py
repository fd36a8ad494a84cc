"""What command groups share: settings, logging, the metadata database (its users and the
command line's audit actor), the market store and the parsing of common options."""

from __future__ import annotations

import getpass
import socket
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from cift.core.errors import ConfigurationError, ValidationError
from cift.core.logging import configure_logging
from cift.core.settings import Settings, load_settings
from cift.core.tracing import setup_tracing
from cift.model import Timeframe

if TYPE_CHECKING:  # loaded by the commands that use them, not by the rest
    from sqlalchemy.orm import Session, sessionmaker

    from cift.audit import Actor
    from cift.data.files import FileMapping
    from cift.data.store import MarketStore


def cli_settings() -> Settings:
    """Load the settings and set up logging (and traces, when configured) for a
    command; its traces are the service ``cift-<group>``, e.g. ``cift-stream``."""
    settings = load_settings()
    configure_logging(settings, command=True)
    setup_tracing(settings, service_name())
    return settings


MetricsPortOption: Any = typer.Option(
    0,
    "--metrics-port",
    min=0,
    max=65535,
    help="Serve Prometheus /metrics on this port while the command runs (0: off), on "
    "CIFT_METRICS_HOST (loopback unless set).",
)


def serve_metrics(settings: Settings, port: int) -> None:
    """Serve this process's metrics on ``port`` (none for 0), or say why it cannot."""
    if not port:
        return
    from cift.core.metrics import serve

    try:
        serve(port, settings.metrics_host)
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot serve metrics on {settings.metrics_host}:{port} ({exc.strerror or exc}): "
            "another program may hold it. Pick another --metrics-port (0 serves none), or "
            "set CIFT_METRICS_HOST to an address of this machine."
        ) from None


def service_name() -> str:
    """``cift-<command group>`` of the command line running (``cift`` outside one); the
    root takes no option with a value, so the first word that is no option names it."""
    group = next((word for word in sys.argv[1:] if not word.startswith("-")), "")
    return f"cift-{group}" if group.isidentifier() else "cift"


@contextmanager
def metadata_db() -> Iterator[tuple[Settings, sessionmaker[Session]]]:
    """Settings and sessions on the metadata database, migrated to the newest schema."""
    from cift.db.opening import metadata_sessions

    settings = cli_settings()
    with metadata_sessions(settings) as db:
        yield settings, db


def owner_id(db: sessionmaker[Session], user: str) -> uuid.UUID:
    """A user named on the command line; ``local`` (the command line's own) is made on first use."""
    from cift.db.engine import transaction
    from cift.db.repositories.users import LOCAL_USERNAME, local_user_id
    from cift.identity.users import user_in

    with transaction(db) as session:
        if user.strip().lower() == LOCAL_USERNAME:
            return local_user_id(session)
        return user_in(session, user).id


def cli_actor() -> Actor:
    """The audit actor for commands run on this machine."""
    from cift.audit import Actor

    return Actor(None, f"cli:{getpass.getuser()}@{socket.gethostname()}"[:200])


@contextmanager
def market_store(settings: Settings) -> Iterator[MarketStore]:
    """The configured market-data store, closed afterwards."""
    from cift.data.store import open_store

    store = open_store(settings)
    try:
        yield store
    finally:
        store.close()


def split_symbols(text: str) -> list[str]:
    """``"AAPL, msft"`` -> ``["AAPL", "msft"]`` (order kept, duplicates dropped)."""
    symbols = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not symbols:
        raise ValidationError("Name at least one symbol, e.g. --symbols AAPL,MSFT.")
    return symbols


def file_mapping(
    *,
    map_: str | None = None,
    columns: str | None = None,
    tz: str = "UTC",
    symbol: str | None = None,
    **options: Any,
) -> FileMapping:
    """A file mapping from the command-line options every file-reading command shares."""
    from cift.data.files import FileMapping

    return FileMapping(
        symbol=symbol,
        rename=FileMapping.parse_rename(map_),
        columns=tuple(c.strip() for c in columns.split(",")) if columns else None,
        timezone=tz,
        **options,
    )


def optional_timeframe(text: str | None) -> Timeframe | None:
    return Timeframe.parse(text) if text else None
