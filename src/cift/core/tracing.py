"""Traces with OpenTelemetry, sent over OTLP/HTTP when ``CIFT_OTLP_ENDPOINT`` is set.

Off by default: no provider is installed and :func:`span` and its kin return at once,
without touching OpenTelemetry. On, each process sends its spans (API requests, SQL statements,
HTTP calls to providers and brokers, bus publishes and the consumers' work on them,
backtest and training runs) in batches to the endpoint, e.g. Jaeger's
``http://jaeger:4318``. A trace crosses processes in W3C ``traceparent`` carriers: bus
messages and job arguments carry the publisher's context, so a streamed event's trace
continues in the process that consumes it.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from opentelemetry import context, propagate, trace
from opentelemetry.trace import INVALID_SPAN, Link, Span, SpanKind

from cift import __version__

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from cift.core.settings import Settings

Carrier = dict[str, str]
"""W3C trace context as text headers (``traceparent``, ``tracestate``)."""

TRACER = trace.get_tracer("cift", __version__)
_lock = threading.Lock()
_installed: list[TracerProvider] = []
"""The provider this process sends spans with (none while tracing is off)."""


def setup_tracing(settings: Settings, service: str) -> bool:
    """Send this process's spans to ``settings.otlp_endpoint`` as ``service`` (unless
    ``CIFT_OTLP_SERVICE_NAME`` names it); False when tracing is off. Once per process."""
    if not settings.otlp_endpoint:
        return False
    with _lock:
        if _installed:
            return True
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

        name = settings.otlp_service_name or service
        resource = Resource.create({"service.name": name, "service.version": __version__})
        sampler = ParentBased(TraceIdRatioBased(settings.otlp_sample_ratio))
        provider = TracerProvider(resource=resource, sampler=sampler)
        endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        trace.set_tracer_provider(provider)
        HTTPXClientInstrumentor().instrument()
        # Engines made from now on; it declares SQLAlchemy < 2.1 but hooks only the
        # engine events 2.1 keeps (the end-to-end test sees its spans).
        SQLAlchemyInstrumentor().instrument(enable_commenter=False, skip_dep_check=True)
        atexit.register(provider.shutdown)  # sends what is still buffered
        _installed.append(provider)
        return True


def enabled() -> bool:
    """Whether this process sends traces."""
    return bool(_installed)


def flush(timeout_ms: int = 5_000) -> None:
    """Send the spans buffered so far (before a worker reports a job done)."""
    for provider in _installed:
        provider.force_flush(timeout_ms)


def instrument_app(app: Any) -> None:
    """Trace the HTTP requests of a FastAPI ``app`` (when tracing is on); the probes
    and ``/metrics`` are left out."""
    if not _installed:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls="health/live,health/ready,metrics")


def carrier() -> Carrier:
    """The current span's context as headers (empty when there is none to carry)."""
    headers: Carrier = {}
    propagate.inject(headers)
    return headers


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) in hex of the current span, if it is a real one."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None
    return f"{span_context.trace_id:032x}", f"{span_context.span_id:016x}"


def span(
    name: str, attributes: Mapping[str, Any] | None = None, kind: SpanKind = SpanKind.INTERNAL
) -> AbstractContextManager[Span]:
    """A span around the block, child of the current one (nothing while tracing is off)."""
    if not _installed:
        return nullcontext(INVALID_SPAN)
    return TRACER.start_as_current_span(name, kind=kind, attributes=attributes)


def producing(
    name: str, attributes: Mapping[str, Any] | None = None
) -> AbstractContextManager[Carrier]:
    """A producer span around a publish; yields the carrier to send with the message,
    so its consumers' spans become its children (empty while tracing is off)."""
    if not _installed:
        return nullcontext({})
    return _producing(name, attributes)


@contextmanager
def _producing(name: str, attributes: Mapping[str, Any] | None) -> Iterator[Carrier]:
    with TRACER.start_as_current_span(name, kind=SpanKind.PRODUCER, attributes=attributes):
        yield carrier()


def consuming(
    name: str, carriers: Sequence[Mapping[str, str]], attributes: Mapping[str, Any] | None = None
) -> AbstractContextManager[Span]:
    """A consumer span around work on received messages: the child of the first
    message's publisher, linked to the others' (nothing while tracing is off)."""
    if not _installed:
        return nullcontext(INVALID_SPAN)
    contexts = [propagate.extract(dict(c)) for c in carriers if c]
    parent = contexts[0] if contexts else None
    links = [Link(trace.get_current_span(c).get_span_context()) for c in contexts[1:]]
    return TRACER.start_as_current_span(
        name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes, links=links
    )


@contextmanager
def continued(headers: Mapping[str, str] | None) -> Iterator[None]:
    """Run the block in the context ``headers`` carry (a job started by a request)."""
    if not headers:
        yield
        return
    token = context.attach(propagate.extract(dict(headers)))
    try:
        yield
    finally:
        context.detach(token)
