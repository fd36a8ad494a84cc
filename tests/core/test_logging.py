"""Logging: JSON lines in production, stdlib loggers routed, traces kept in the log."""

from __future__ import annotations

import io
import json
import logging
import sys

from loguru import logger

from cift.core.logging import configure_logging
from cift.core.settings import load_settings
from tests.fresh import fresh_python


def _json_lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line]


def test_json_format_is_one_object_per_line_with_bound_fields() -> None:
    buffer = io.StringIO()
    configure_logging(load_settings(log_format="json"), sink=buffer)
    with logger.contextualize(request_id="rid-1"):
        logger.bind(symbol="AAPL").info("ingested {} rows", 42)
    (line,) = _json_lines(buffer)
    assert line["message"] == "ingested 42 rows"
    assert line["level"] == "INFO"
    assert line["request_id"] == "rid-1"
    assert line["symbol"] == "AAPL"
    assert str(line["ts"]).endswith("+00:00")


def test_standard_library_loggers_are_routed_through_loguru() -> None:
    buffer = io.StringIO()
    configure_logging(load_settings(log_format="json"), sink=buffer)
    logging.getLogger("uvicorn.error").warning("port %d busy", 8000)
    logging.getLogger("some.library").info("hello")
    lines = _json_lines(buffer)
    assert {"logger": "uvicorn.error", "message": "port 8000 busy"}.items() <= lines[0].items()
    assert lines[1]["logger"] == "some.library"


def test_exceptions_carry_their_trace_in_json() -> None:
    buffer = io.StringIO()
    configure_logging(load_settings(log_format="json"), sink=buffer)
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        logger.exception("boom")
    (line,) = _json_lines(buffer)
    exception = line["exception"]
    assert isinstance(exception, dict)
    assert exception["type"] == "ZeroDivisionError"
    assert "Traceback" in exception["traceback"]


def test_text_format_in_dev_and_level_filter() -> None:
    buffer = io.StringIO()
    configure_logging(load_settings(log_level="WARNING"), sink=buffer)
    logger.info("hidden")
    logger.bind(order_id="o-1").warning("shown")
    output = buffer.getvalue()
    assert "hidden" not in output
    assert "WARNING" in output
    assert "shown order_id=o-1" in output
    assert not output.lstrip().startswith("{")


def test_production_defaults_to_json(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CIFT_ENV", "production")
    monkeypatch.setenv("CIFT_SECRET_KEY", "k" + "Zq8#xV2!mN7$pL4@" * 3)
    assert load_settings().json_logs
    assert not load_settings(log_format="text").json_logs


def test_logs_go_to_the_stderr_of_the_moment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stderr", captured)
    configure_logging(load_settings(log_format="json"))
    logger.info("while captured")
    captured.close()  # as a runner capturing a command's output does when it ends
    after = io.StringIO()
    monkeypatch.setattr(sys, "stderr", after)
    logger.info("after")
    assert [line["message"] for line in _json_lines(after)] == ["after"]


BACKGROUND = """
import io, logging, os, sys, tempfile
os.environ["CIFT_HOME"] = tempfile.mkdtemp()
os.environ.pop("MLFLOW_LOGGING_LEVEL", None)
from cift.core.logging import configure_logging
from cift.core.settings import load_settings
from cift.db import migrate
from cift.db.engine import create_db_engine
sys.stderr = captured = io.StringIO()
settings = load_settings(log_level="INFO")
configure_logging(settings, command=sys.argv[1] == "command")
engine = create_db_engine(settings)
migrate.upgrade(engine)
engine.dispose()
import mlflow  # sets up its own loggers, at the level the environment gives
logging.getLogger("mlflow.store.db.utils").info("Creating initial MLflow database tables")
logging.getLogger("mlflow.store.db.utils").warning("a warning from mlflow")
sys.stdout.write(captured.getvalue())
"""


def test_a_command_shows_only_the_warnings_of_migrations_and_mlflow() -> None:
    """A new user's first command does not print every migration or MLflow's table
    set-up; a server's log keeps them."""
    command = "\n".join(fresh_python(BACKGROUND, "command"))
    assert "Running upgrade" not in command
    assert "Creating initial MLflow" not in command
    assert "a warning from mlflow" in command
    server = "\n".join(fresh_python(BACKGROUND, "server"))
    assert "Running upgrade" in server
    assert "Creating initial MLflow" in server
