"""Traces in one process: a bus consumer's span continues its publisher's trace (the
context travels in the message), a job continues its caller's, and log lines carry the
ids of the span they were logged in."""

from __future__ import annotations

import io
import json
import threading

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from cift.core import tracing
from cift.core.errors import ConfigurationError
from cift.core.logging import configure_logging
from cift.core.settings import Settings, load_settings
from cift.data.bus.memory import MemoryBus
from cift.data.stream.stage import Outcome, consume
from tests.data.marketdata import random_trades


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """Spans of CIFT's tracer, kept in memory (the process's global provider untouched)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "TRACER", provider.get_tracer("test"))
    monkeypatch.setattr(tracing, "_installed", [provider])
    return exporter


def _named(finished: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    return next(s for s in finished if s.name == name)


def test_a_consumer_continues_the_trace_of_the_batch_it_processes(
    spans: InMemorySpanExporter,
) -> None:
    bus = MemoryBus()
    with tracing.span("request"):
        bus.publish("trades", random_trades(50, ["AAA"]))
    bus.publish("trades", random_trades(50, ["BBB"]))  # outside any trace: no context
    stop = threading.Event()
    seen: list[tuple[str, str] | None] = []

    def work(deliveries: object) -> Outcome:
        batches = list(deliveries)  # type: ignore[call-overload]
        if batches:
            seen.append(tracing.current_ids())
            stop.set()
        return Outcome(0, batches)

    consume(bus, "trades", "traced", "c-1", work, stop)

    finished = spans.get_finished_spans()
    request, publish = _named(finished, "request"), _named(finished, "publish trades")
    process = _named(finished, "process trades")
    assert publish.parent is not None
    assert publish.parent.span_id == request.context.span_id
    assert publish.kind is SpanKind.PRODUCER
    assert process.kind is SpanKind.CONSUMER
    assert process.parent is not None
    assert process.parent.span_id == publish.context.span_id  # across the bus
    assert process.context.trace_id == request.context.trace_id
    assert process.attributes is not None
    assert process.attributes["messaging.batch.message_count"] == 2
    assert seen == [(f"{process.context.trace_id:032x}", f"{process.context.span_id:016x}")]


def test_a_job_runs_in_the_trace_that_submitted_it(spans: InMemorySpanExporter) -> None:
    with tracing.span("request"):
        headers = tracing.carrier()
    assert headers["traceparent"].startswith("00-")
    with tracing.continued(headers), tracing.span("backtest job"):
        pass
    finished = spans.get_finished_spans()
    job, request = _named(finished, "backtest job"), _named(finished, "request")
    assert job.parent is not None
    assert job.parent.span_id == request.context.span_id


def test_log_lines_in_a_span_carry_its_ids(spans: InMemorySpanExporter) -> None:
    from loguru import logger

    sink = io.StringIO()
    configure_logging(Settings(_env_file=None, log_format="json"), sink=sink)  # type: ignore[call-arg]
    logger.info("outside")
    with tracing.span("work"):
        logger.info("inside")
    outside, inside = (json.loads(line) for line in sink.getvalue().splitlines())
    assert "trace_id" not in outside
    work = _named(spans.get_finished_spans(), "work")
    assert inside["trace_id"] == f"{work.context.trace_id:032x}"
    assert inside["span_id"] == f"{work.context.span_id:016x}"


def test_tracing_is_off_without_an_endpoint() -> None:
    assert tracing.setup_tracing(Settings(_env_file=None), "cift-test") is False  # type: ignore[call-arg]
    assert not tracing.enabled()
    with tracing.producing("publish trades") as headers, tracing.span("work") as current:
        assert headers == {}  # nothing travels with a message
        assert not current.get_span_context().is_valid
        assert tracing.current_ids() is None


def test_an_endpoint_that_is_no_url_is_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigurationError, match="CIFT_OTLP_ENDPOINT"):
        load_settings(otlp_endpoint="jaeger:4318")
    assert load_settings(otlp_endpoint="").otlp_endpoint is None  # empty: tracing off
