"""Logging through loguru: readable lines in dev, one JSON object per line in production.

Standard-library loggers (uvicorn, SQLAlchemy, Alembic, ...) are routed into loguru, so
every line of a process has one format. Fields bound with ``logger.bind`` or
``logger.contextualize`` (such as ``request_id``) become keys of the JSON object, and
inside a traced span every line carries its ``trace_id`` and ``span_id``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from datetime import UTC
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from loguru import logger

from cift.core.tracing import current_ids

if TYPE_CHECKING:
    from loguru import Message, Record

    from cift.core.settings import Settings

ROUTED_LOGGERS = ("uvicorn", "uvicorn.error", "sqlalchemy", "alembic")
# CIFT's request middleware logs every request with its id, route and duration.
SILENCED_LOGGERS = ("uvicorn.access",)
BACKGROUND_LOGGERS = ("alembic", "mlflow")
"""Libraries whose INFO lines (each migration applied to a new database, each MLflow table
created, each model version registered) tell a command's user nothing to act on: a
command shows their warnings only, unless CIFT_LOG_LEVEL is DEBUG. A server keeps them."""
TEXT_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> <level>{level: <8}</level> "
    "<cyan>{name}</cyan> {message}{extra[_kv]}"
)


class InterceptHandler(logging.Handler):
    """Forward standard-library log records to loguru, keeping their origin."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        frame: FrameType | None = logging.currentframe()
        depth = 0
        while frame is not None and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame = frame.f_back
            depth += 1
        logger.bind(logger_name=record.name).opt(depth=depth, exception=record.exc_info).log(
            level, record.getMessage()
        )


def json_line(record: Record) -> str:
    """Render one record as a compact JSON object (no trailing newline)."""
    extra = {k: v for k, v in record["extra"].items() if not k.startswith("_")}
    payload: dict[str, Any] = {
        "ts": record["time"].astimezone(UTC).isoformat(timespec="microseconds"),
        "level": record["level"].name,
        "logger": extra.pop("logger_name", record["name"]),
        "message": record["message"],
        **extra,
    }
    if record["exception"] is not None:
        exc_type, exc_value, exc_tb = record["exception"]
        payload["exception"] = {
            "type": exc_type.__name__ if exc_type else None,
            "message": str(exc_value),
            "traceback": "".join(traceback.format_exception(exc_type, exc_value, exc_tb)),
        }
    return json.dumps(payload, default=str, separators=(",", ":"))


def configure_logging(
    settings: Settings, *, sink: TextIO | None = None, command: bool = False
) -> None:
    """Install CIFT's log sink for the whole process (idempotent); for a ``command``,
    the :data:`BACKGROUND_LOGGERS` log warnings only (unless the level is DEBUG)."""
    out: TextIO | Callable[[Message], None] = sink if sink is not None else _to_stderr
    logger.remove()
    logger.configure(patcher=_with_trace)
    if settings.json_logs:
        logger.add(
            out,
            level=settings.log_level,
            format=_json_format,
            backtrace=False,
            diagnose=False,
        )
    else:
        logger.add(
            out,
            level=settings.log_level,
            format=_text_format,
            colorize=(sink or sys.stderr).isatty(),
            backtrace=False,
            diagnose=False,
        )
    std_level = logger.level(settings.log_level).no
    logging.basicConfig(handlers=[InterceptHandler()], level=std_level, force=True)
    for name in ROUTED_LOGGERS:
        std = logging.getLogger(name)
        std.handlers = [InterceptHandler()]
        std.propagate = False
    for name in SILENCED_LOGGERS:
        logging.getLogger(name).disabled = True
    sql_level = logging.INFO if settings.database_echo else logging.WARNING
    logging.getLogger("sqlalchemy.engine").setLevel(sql_level)
    if command and std_level > logging.DEBUG:
        _background_at_warning()


def _background_at_warning() -> None:
    """Warnings only from the background libraries, also once MLflow, imported later,
    sets up its own loggers (it reads its level from the environment then)."""
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    for name in BACKGROUND_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def _with_trace(record: Record) -> None:
    """Tag the line with the ids of the span it was logged in, if any."""
    ids = current_ids()
    if ids is not None:
        record["extra"]["trace_id"], record["extra"]["span_id"] = ids


def _to_stderr(message: Message) -> None:
    """Write to the process's stderr as it is now: a caller that swaps and then closes
    it (a test runner capturing output) leaves the logs on the stderr that follows."""
    sys.stderr.write(message)


def _json_format(record: Record) -> str:
    # loguru formats the returned template, so the JSON travels as one field.
    record["extra"]["_json"] = json_line(record)
    return "{extra[_json]}\n"


def _text_format(record: Record) -> str:
    extra = record["extra"]
    visible = {k: v for k, v in extra.items() if not k.startswith("_") and k != "logger_name"}
    extra["_kv"] = "".join(f" {k}={v}" for k, v in visible.items())
    return TEXT_FORMAT + "\n{exception}"
