"""Logging: JSON lines in production, stdlib loggers routed, traces kept in the log."""

from __future__ import annotations

import io
import json
import logging
import sys

from loguru import logger

from cift.core.logging import configure_logging
from cift.core.settings import load_settings


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
