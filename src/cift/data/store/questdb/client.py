"""Typed wrappers around the two QuestDB endpoints: SQL over the PostgreSQL wire
(psycopg 3) and ingestion over ILP/HTTP (the official ``questdb`` client).

Failures become ``CiftError``s that name the setting to check: a malformed setting is a
``ConfigurationError``, a server that is down or refuses a request an ``UpstreamError``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import pandas as pd
import psycopg
import questdb
from psycopg.conninfo import conninfo_to_dict

from cift.core.errors import ConfigurationError, UpstreamError
from cift.data.store.questdb.sql import Query

PG_VARIABLE = "CIFT_QUESTDB_PG_URL"
ILP_VARIABLE = "CIFT_QUESTDB_ILP_CONF"
CONNECT_TIMEOUT_SECONDS = 5

Row = tuple[Any, ...]


class SqlClient(Protocol):
    """What the store needs from the SQL endpoint."""

    def rows(self, query: Query) -> list[Row]:
        """Run a query and fetch every row."""
        ...

    def execute(self, statement: str) -> None:
        """Run a statement that returns no rows (DDL, ``ALTER``, ``INSERT ... SELECT``)."""
        ...

    def describe(self) -> str:
        """Where the endpoint is (never credentials)."""
        ...

    def close(self) -> None: ...


def endpoint(url: str) -> str:
    """``host:port`` of a PostgreSQL URL, or a ``ConfigurationError`` if it is malformed."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ConfigurationError(
            f"{PG_VARIABLE} is not a valid PostgreSQL URL ({_first_line(exc)}); use e.g. "
            "postgresql://admin:quest@localhost:8812/qdb."
        ) from None
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}"


class PgClient:
    """One autocommit psycopg connection, opened on first use and reopened after a
    failure; calls from several threads take turns."""

    def __init__(self, url: str, connect_timeout: int = CONNECT_TIMEOUT_SECONDS) -> None:
        self.url = url
        self.address = endpoint(url)
        self.connect_timeout = connect_timeout
        self._connection: psycopg.Connection[Row] | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return self.address

    def _connect(self) -> psycopg.Connection[Row]:
        if self._connection is None or self._connection.closed:
            try:
                self._connection = psycopg.connect(
                    self.url, autocommit=True, connect_timeout=self.connect_timeout
                )
            except psycopg.OperationalError as exc:
                raise UpstreamError(
                    f"QuestDB does not answer at {self.address} ({_first_line(exc)}). "
                    f"Start it, or point {PG_VARIABLE} at it."
                ) from None
            except psycopg.ProgrammingError as exc:
                raise ConfigurationError(
                    f"{PG_VARIABLE} is not usable ({_first_line(exc)}); use e.g. "
                    "postgresql://admin:quest@localhost:8812/qdb."
                ) from None
        return self._connection

    def rows(self, query: Query) -> list[Row]:
        with self._lock:
            return self._run(query.text, query.params, fetch=True)

    def execute(self, statement: str) -> None:
        with self._lock:
            self._run(statement, (), fetch=False)

    def _run(self, text: str, params: Sequence[object], *, fetch: bool) -> list[Row]:
        connection = self._connect()
        try:
            with connection.cursor(binary=True) as cursor:
                cursor.execute(text.encode(), params or None)
                return cursor.fetchall() if fetch else []
        except psycopg.OperationalError as exc:
            self.close()
            raise UpstreamError(
                f"Lost the connection to QuestDB at {self.address} ({_first_line(exc)}); "
                f"check the server and {PG_VARIABLE}, then retry."
            ) from None
        except psycopg.Error as exc:
            raise UpstreamError(
                f"QuestDB at {self.address} refused a query: {_first_line(exc)} "
                f"[{' '.join(text.split())[:160]}]"
            ) from None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def new_sender(conf: str) -> questdb.Sender:
    """An ILP sender for ``conf`` (not yet connected)."""
    try:
        return questdb.Sender.from_conf(conf)
    except ValueError as exc:
        raise ConfigurationError(
            f"{ILP_VARIABLE} is not a valid QuestDB client configuration ({exc}); use e.g. "
            "http::addr=localhost:9000;"
        ) from None
    except questdb.QuestDBError as exc:
        raise ilp_error(exc) from None


def ilp_error(exc: questdb.QuestDBError) -> ConfigurationError | UpstreamError:
    """The CIFT error of a failed ILP call."""
    if exc.code is questdb.QuestDBErrorCode.ConfigError:
        return ConfigurationError(
            f"{ILP_VARIABLE} is not a valid QuestDB client configuration ({exc}); use e.g. "
            "http::addr=localhost:9000;"
        )
    return UpstreamError(
        f"QuestDB ingestion failed ({exc.code.name}): {_first_line(exc)}. Check the server "
        f"and {ILP_VARIABLE}."
    )


class IlpClient:
    """One ILP/HTTP sender, connected on first use and kept for the store's life (a sender
    per write costs a ``/settings`` round trip and a new connection each time, and the
    client warns about such bursts); calls take turns, and a failed sender is dropped with
    its buffer so the next call starts clean."""

    def __init__(self, conf: str) -> None:
        self.conf = conf
        self._sender: questdb.Sender | None = None
        self._lock = threading.Lock()

    def _connect(self) -> questdb.Sender:
        if self._sender is None:
            sender = new_sender(self.conf)
            try:
                sender.establish()  # type: ignore[no-untyped-call]
            except questdb.QuestDBError as exc:
                raise ilp_error(exc) from None
            self._sender = sender
        return self._sender

    def send(self, table: str, frame: pd.DataFrame, symbols: Sequence[str]) -> None:
        """Send a frame's rows to ``table`` (``ts`` is the designated timestamp) and flush;
        each HTTP request the client makes is committed by the server as a whole."""
        with self._lock:
            sender = self._connect()
            try:
                sender.dataframe(frame, table_name=table, symbols=list(symbols), at="ts")
                sender.flush()
            except questdb.QuestDBError as exc:
                self._drop()
                raise ilp_error(exc) from None

    def _drop(self) -> None:
        if self._sender is not None:
            sender, self._sender = self._sender, None
            with contextlib.suppress(questdb.QuestDBError):
                sender.close(flush=False)

    def close(self) -> None:
        with self._lock:
            self._drop()


def probe_ilp(conf: str) -> int:
    """Reach the ingestion endpoint now (a fresh sender asks for ``/settings``); the line
    protocol version it speaks."""
    sender = new_sender(conf)
    try:
        with sender:
            return sender.protocol_version
    except questdb.QuestDBError as exc:
        raise ilp_error(exc) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
