"""One naming scheme and one registry for the Prometheus metrics of every stage.

A metric is named ``cift_<stage>_<what>_<unit>`` (counters are exposed with ``_total``),
its labels come from a short list of bounded ones, and it lives in the process's default
registry, so a process exposes every stage it runs on one ``/metrics``: ``cift serve``
at ``/metrics``, the long-running CLI commands on ``--metrics-port``.

Spawned worker processes (the API's backtest and training jobs, ``cift serve
--workers N``) write their values to ``PROMETHEUS_MULTIPROC_DIR``; the process that
answers ``/metrics`` adds them to its own, so work done in a worker is not lost.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal

import prometheus_client
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
    values,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

STAGES = (
    "api",
    "ingest",
    "store",
    "features",
    "backtest",
    "sweep",
    "jobs",
    "stream",
    "trading",
    "ml",
    "alerts",
)
"""The stages that export metrics, as the first word after ``cift_``."""

UNITS = (
    "seconds",
    "rows",
    "bytes",
    "batches",
    "bars",
    "trades",
    "orders",
    "requests",
    "runs",
    "jobs",
    "trials",
    "pages",
    "retries",
    "gaps",
    "reconnects",
    "differences",
    "alerts",
    "deliveries",
    "currency",
    "ratio",
    "state",
    "info",
)
"""The last word of a name: what one unit of the value is."""

LABELS = frozenset(
    {
        "method",
        "route",
        "status",
        "stage",
        "topic",
        "provider",
        "kind",
        "backend",
        "state",
        "reason",
        "symbol",
        "mode",
        "outcome",
        "channel",
        "version",
    }
)
"""Label names a metric may use: each takes a small, bounded set of values (never an
id, a user or a raw path), so the number of series stays small."""

DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
"""Seconds, for work that takes milliseconds to seconds (requests, writes, queries)."""
RUN_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
"""Seconds, for whole runs (backtests, trials, jobs, training)."""

GaugeMode = Literal["livesum", "max", "min", "mostrecent", "liveall"]

prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created: no sum


def metric_name(stage: str, what: str, unit: str) -> str:
    """``cift_<stage>_<what>_<unit>``, refusing a stage or unit outside the scheme (a
    count of events may leave the unit out: ``cift_alerts_fired``)."""
    if stage not in STAGES:
        raise ValueError(f"Unknown metrics stage {stage!r}; use one of {', '.join(STAGES)}.")
    if unit not in UNITS and not (unit == "" and what):
        raise ValueError(f"Unknown metrics unit {unit!r}; use one of {', '.join(UNITS)}.")
    return "_".join(part for part in ("cift", stage, what, unit) if part)


def _labels(labels: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted(set(labels) - LABELS)
    if unknown:
        raise ValueError(f"Unbounded or unknown metric labels {unknown}; use {sorted(LABELS)}.")
    return tuple(labels)


def counter(stage: str, what: str, unit: str, doc: str, labels: Sequence[str] = ()) -> Counter:
    """A counter in the process registry (exposed as ``<name>_total``)."""
    return Counter(metric_name(stage, what, unit), doc, _labels(labels), registry=REGISTRY)


def histogram(
    stage: str,
    what: str,
    unit: str,
    doc: str,
    labels: Sequence[str] = (),
    buckets: Sequence[float] = DURATION_BUCKETS,
) -> Histogram:
    """A histogram in the process registry."""
    name = metric_name(stage, what, unit)
    return Histogram(name, doc, _labels(labels), buckets=buckets, registry=REGISTRY)


def gauge(
    stage: str,
    what: str,
    unit: str,
    doc: str,
    labels: Sequence[str] = (),
    mode: GaugeMode = "livesum",
) -> Gauge:
    """A gauge in the process registry; ``mode`` says how worker processes combine."""
    name = metric_name(stage, what, unit)
    return Gauge(name, doc, _labels(labels), registry=REGISTRY, multiprocess_mode=mode)


def writes_to_files() -> bool:
    """Whether this process keeps its values in ``PROMETHEUS_MULTIPROC_DIR`` (it was
    started with the variable set, as every worker of ``cift serve`` is)."""
    return values.ValueClass is not values.MutexValue


def share_with_workers(folder: Path) -> None:
    """Have worker processes started from now on write their values into ``folder``
    (emptied first), for this process's ``/metrics`` to add up."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = os.fspath(folder)


def exposition() -> tuple[bytes, str]:
    """This process's metrics and its workers', in the text format."""
    return generate_latest(_EXPOSED), CONTENT_TYPE_LATEST


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve :func:`exposition` on ``port`` (``/metrics``) from a background thread."""
    start_http_server(port, addr=host, registry=_EXPOSED)


class _Exposed(Collector):
    """This process's families (unless it writes them to files) plus its workers'
    files, samples of the same series summed."""

    def collect(self) -> Iterator[Metric]:
        folder = os.environ.get(MULTIPROC_ENV)
        parts: list[Iterable[Metric]] = []
        if folder and any(Path(folder).glob("*.db")):
            workers = multiprocess.MultiProcessCollector(None, folder)  # type: ignore[no-untyped-call]
            parts.append(workers.collect())  # type: ignore[no-untyped-call]
        if not writes_to_files():
            parts.append(REGISTRY.collect())
        return _merged(parts)


_EXPOSED = _Exposed()


def _merged(parts: Sequence[Iterable[Metric]]) -> Iterator[Metric]:
    families: dict[str, Metric] = {}
    series: dict[str, dict[tuple[str, tuple[tuple[str, str], ...]], Sample]] = {}
    for part in parts:
        for family in part:
            families.setdefault(family.name, family)
            own = series.setdefault(family.name, {})
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                seen = own.get(key)
                value = sample.value if seen is None else seen.value + sample.value
                own[key] = sample._replace(value=value)
    for name, family in families.items():
        family.samples = list(series[name].values())
        yield family


def catalogue() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """Every CIFT metric registered in this process: (exposed name, type, help, label
    names), sorted; import the stage modules first to see them all."""
    out = []
    for collector in list(REGISTRY._collector_to_names):
        if not isinstance(collector, (Counter, Gauge, Histogram)):
            continue
        name = collector._name
        if not name.startswith("cift_"):
            continue
        kind = collector._type
        exposed = f"{name}_total" if kind == "counter" else name
        out.append((exposed, kind, collector._documentation, tuple(collector._labelnames)))
    return sorted(out)
