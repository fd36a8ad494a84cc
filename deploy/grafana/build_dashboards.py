#!/usr/bin/env python3
"""Write the Grafana dashboards of the CIFT stack to deploy/grafana/dashboards/*.json.

    python deploy/grafana/build_dashboards.py           # rewrite the JSON files
    python deploy/grafana/build_dashboards.py --check   # exit 1 if one is out of date

Grafana reads the JSON (provisioned from /etc/grafana/dashboards); this script is how it
is written, so edit the panels here and run it. Queries read Prometheus through the
datasource uid ``prometheus`` of provisioning/datasources/datasources.yml, and use the
recorded series of deploy/prometheus/rules/cift.yml (``cift:...``) where one exists.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
PROMETHEUS = {"type": "prometheus", "uid": "prometheus"}
SCHEMA_VERSION = 39
GRID_WIDTH = 24
RATE = "$__rate_interval"

Json = dict[str, Any]


# --- building blocks ---------------------------------------------------------------------


@dataclass(frozen=True)
class Q:
    """One PromQL query of a panel and how its series are named."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    """A ``timeseries`` or ``stat`` panel, ``w`` x ``h`` grid units."""

    kind: str
    title: str
    queries: tuple[Q, ...]
    unit: str
    description: str = ""
    w: int = 12
    h: int = 8
    stack: bool = False
    thresholds: tuple[tuple[str, float | None], ...] = (("green", None),)
    mappings: tuple[Json, ...] = ()
    text_mode: str = "auto"
    color_mode: str = "value"


@dataclass(frozen=True)
class Row:
    title: str


Item = Panel | Row


def timeseries(title: str, unit: str, *queries: Q, **options: Any) -> Panel:
    return Panel("timeseries", title, queries, unit, **options)


def stat(title: str, unit: str, *queries: Q, **options: Any) -> Panel:
    return Panel("stat", title, queries, unit, **{"w": 4, "h": 4, **options})


def quantiles(
    bucket: str, by: str = "", where: str = "", qs: Iterable[float] = (0.5, 0.95)
) -> tuple[Q, ...]:
    """``histogram_quantile`` at each of ``qs`` of a histogram's ``_bucket`` series."""
    group = f"{by}, le" if by else "le"
    naming = " ".join(f"{{{{{label.strip()}}}}}" for label in by.split(",") if label.strip())
    return tuple(
        Q(
            f"histogram_quantile({q}, sum by ({group}) (rate({bucket}{where}[{RATE}])))",
            f"p{round(q * 100)} {naming}".strip(),
        )
        for q in qs
    )


def words(zero: tuple[str, str], one: tuple[str, str]) -> tuple[Json, ...]:
    """Value mappings showing 0 and 1 as (text, colour)."""
    return (
        {
            "type": "value",
            "options": {
                "0": {"text": zero[0], "color": zero[1], "index": 0},
                "1": {"text": one[0], "color": one[1], "index": 1},
            },
        },
    )


@dataclass
class Dashboard:
    uid: str
    title: str
    description: str
    tags: tuple[str, ...]
    items: tuple[Item, ...]
    variables: tuple[Json, ...] = ()


def variable(name: str, label: str, query: str) -> Json:
    """A multi-value query variable over Prometheus label values, All by default."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": PROMETHEUS,
        "definition": query,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
        "regex": "",
        "sort": 1,
        "hide": 0,
    }


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> Json:
    targets = [
        {
            "datasource": PROMETHEUS,
            "refId": chr(ord("A") + index),
            "expr": query.expr,
            "legendFormat": query.legend or "__auto",
            "range": True,
            "instant": False,
        }
        for index, query in enumerate(panel.queries)
    ]
    defaults: Json = {
        "unit": panel.unit,
        "mappings": list(panel.mappings),
        "thresholds": {
            "mode": "absolute",
            "steps": [{"color": color, "value": value} for color, value in panel.thresholds],
        },
    }
    if panel.kind == "timeseries":
        defaults["color"] = {"mode": "palette-classic"}
        defaults["custom"] = {
            "drawStyle": "line",
            "lineInterpolation": "linear",
            "lineWidth": 1,
            "fillOpacity": 20 if panel.stack else 10,
            "gradientMode": "none",
            "showPoints": "never",
            "spanNulls": False,
            "axisPlacement": "auto",
            "axisSoftMin": 0,
            "stacking": {"mode": "normal" if panel.stack else "none", "group": "A"},
            "thresholdsStyle": {"mode": "off" if len(panel.thresholds) == 1 else "dashed"},
        }
        options: Json = {
            "legend": {
                "displayMode": "list",
                "placement": "bottom",
                "showLegend": True,
                "calcs": [],
            },
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    else:
        defaults["color"] = {"mode": "thresholds"}
        options = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": panel.color_mode,
            "graphMode": "none" if panel.text_mode == "name" else "area",
            "justifyMode": "auto",
            "orientation": "auto",
            "textMode": panel.text_mode,
            "wideLayout": True,
            "showPercentChange": False,
        }
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": PROMETHEUS,
        "gridPos": {"h": panel.h, "w": panel.w, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        "targets": targets,
    }


def render(dashboard: Dashboard) -> Json:
    """The dashboard as Grafana's JSON model, panels laid out left to right."""
    panels: list[Json] = []
    x = y = line_height = 0
    for number, item in enumerate(dashboard.items, start=1):
        if isinstance(item, Row):
            y += line_height
            x = line_height = 0
            panels.append(
                {
                    "id": number,
                    "type": "row",
                    "title": item.title,
                    "collapsed": False,
                    "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y},
                    "panels": [],
                }
            )
            y += 1
            continue
        if x + item.w > GRID_WIDTH:
            y += line_height
            x = line_height = 0
        panels.append(_panel_json(item, number, x, y))
        x += item.w
        line_height = max(line_height, item.h)
    return {
        "id": None,
        "uid": dashboard.uid,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": ["cift", *dashboard.tags],
        "timezone": "utc",
        "editable": True,
        "graphTooltip": 1,
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "refresh": "30s",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "weekStart": "",
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                },
                {
                    "datasource": PROMETHEUS,
                    "enable": True,
                    "hide": False,
                    "iconColor": "red",
                    "name": "CIFT alerts firing",
                    "expr": 'ALERTS{alertstate="firing", alertname=~"Cift.*"}',
                    "step": "1m",
                    "titleFormat": "{{alertname}}",
                    "textFormat": "{{instance}} {{severity}}",
                    "useValueForTime": False,
                },
            ]
        },
        "links": [
            {
                "title": "CIFT dashboards",
                "type": "dashboards",
                "tags": ["cift"],
                "asDropdown": True,
                "includeVars": False,
                "keepTime": True,
                "targetBlank": False,
                "icon": "external link",
                "tooltip": "",
                "url": "",
            }
        ],
        "templating": {"list": list(dashboard.variables)},
        "panels": panels,
    }


# --- the dashboards ----------------------------------------------------------------------


def over(fn: str, metric: str, where: str = "", by: str = "", window: str = RATE) -> str:
    """``sum [by (by)] (fn(metric{where}[window]))``, ``fn`` a range function."""
    inner = f"{fn}({metric}{where}[{window}])"
    return f"sum by ({by}) ({inner})" if by else f"sum({inner})"


def rate(metric: str, where: str = "", by: str = "") -> str:
    return over("rate", metric, where, by)


def per5m(metric: str, where: str = "", by: str = "", window: str = "5m") -> str:
    """How much a counter grew in each ``window`` (5 minutes unless told)."""
    return over("increase", metric, where, by, window)


def in_range(metric: str, where: str = "") -> str:
    """How much a counter grew over the dashboard's time range."""
    return over("increase", metric, where, window="$__range")


def labels(*names: str) -> str:
    """A legend naming each series by ``names``' values."""
    return " ".join(f"{{{{{name}}}}}" for name in names)


INSTANCE = '{instance=~"$instance"}'


def api() -> Dashboard:
    requests = "cift_api_requests_total"
    seconds = "cift_api_request_duration_seconds"
    errors = '{instance=~"$instance", status=~"5.."}'
    failed = '{instance=~"$instance", status=~"[45].."}'
    recorded = "cift:api_requests:rate5m"
    return Dashboard(
        uid="cift-api",
        title="CIFT / API",
        description="The HTTP API and dashboard server (cift serve): traffic, errors, latency.",
        tags=("api",),
        variables=(variable("instance", "Instance", 'label_values(up{job="cift-api"}, instance)'),),
        items=(
            Row("Now"),
            stat("Requests per second", "reqps", Q(rate(requests, INSTANCE))),
            stat(
                "5xx share (5 min)",
                "percentunit",
                Q(f"sum({recorded}{errors}) / sum({recorded}{INSTANCE})"),
                thresholds=(("green", None), ("orange", 0.01), ("red", 0.05)),
                description="Answers that were server errors; the alert fires above 5%.",
            ),
            stat(
                "p95 latency (5 min)",
                "s",
                Q(f"max(cift:api_request_duration_seconds:p95_5m{INSTANCE})"),
                thresholds=(("green", None), ("orange", 0.5), ("red", 2)),
            ),
            stat("In progress", "short", Q(f"sum(cift_api_in_progress_requests{INSTANCE})")),
            stat(
                "Version",
                "none",
                Q(f"cift_api_build_info{INSTANCE}", labels("version")),
                text_mode="name",
                color_mode="none",
                w=8,
                description="The CIFT package version each API instance runs.",
            ),
            Row("Traffic"),
            timeseries(
                "Requests by status",
                "reqps",
                Q(rate(requests, INSTANCE, "status"), labels("status")),
                stack=True,
            ),
            timeseries(
                "Requests by route",
                "reqps",
                Q(rate(requests, INSTANCE, "method, route"), labels("method", "route")),
            ),
            timeseries(
                "5xx share",
                "percentunit",
                Q(
                    f"{rate(requests, errors, 'instance')}"
                    f" / {rate(requests, INSTANCE, 'instance')}",
                    labels("instance"),
                ),
                thresholds=(("green", None), ("red", 0.05)),
            ),
            timeseries(
                "Client and server errors by route",
                "reqps",
                Q(rate(requests, failed, "route, status"), labels("status", "route")),
            ),
            Row("Latency"),
            timeseries(
                "Latency",
                "s",
                *quantiles(f"{seconds}_bucket", where=INSTANCE, qs=(0.5, 0.95, 0.99)),
            ),
            timeseries(
                "p95 latency by route",
                "s",
                *quantiles(f"{seconds}_bucket", "method, route", INSTANCE, (0.95,)),
            ),
            timeseries(
                "Mean latency by route",
                "s",
                Q(
                    f"{rate(f'{seconds}_sum', INSTANCE, 'method, route')}"
                    f" / {rate(f'{seconds}_count', INSTANCE, 'method, route')}",
                    labels("method", "route"),
                ),
            ),
            timeseries(
                "Requests in progress",
                "short",
                Q(
                    f"sum by (instance) (cift_api_in_progress_requests{INSTANCE})",
                    labels("instance"),
                ),
            ),
        ),
    )


def ingest_streaming() -> Dashboard:
    stage = '{stage=~"$stage", instance=~"$instance"}'
    lag = "cift_stream_consumer_lag_batches"
    late = "cift_stream_late_trades"
    return Dashboard(
        uid="cift-ingest-streaming",
        title="CIFT / Ingest and streaming",
        description=(
            "The live path (cift stream ingest, store, bars, features): the feed, rows "
            "through each stage, consumer lag and latency; backfills from providers; features."
        ),
        tags=("stream", "ingest"),
        variables=(
            variable("stage", "Stage", "label_values(cift_stream_batches_total, stage)"),
            variable("instance", "Instance", 'label_values(up{job="cift-stream"}, instance)'),
        ),
        items=(
            Row("Live feed"),
            stat(
                "Feed rows per second",
                "count:rows/s",
                Q(f"sum(cift:stream_feed_rows:rate1m{INSTANCE})"),
                thresholds=(("red", None), ("green", 0.001)),
                w=6,
                description="Trades and quotes the live feeds receive; red at zero.",
            ),
            stat(
                "Rows out per second",
                "count:rows/s",
                Q(f"sum(cift:stream_rows:rate1m{stage})"),
                w=6,
                description="Rows the stages wrote or published (new ones only, for the store).",
            ),
            stat(
                "Highest consumer lag",
                "count:batches",
                Q(f"max({lag}{stage})"),
                thresholds=(("green", None), ("orange", 50), ("red", 100)),
                w=6,
            ),
            stat(
                "Reconnects (range)",
                "short",
                Q(in_range("cift_stream_reconnects_total", INSTANCE)),
                thresholds=(("green", None), ("orange", 1)),
                w=6,
            ),
            timeseries(
                "Feed rows by provider and kind",
                "count:rows/s",
                Q(
                    rate("cift_stream_feed_rows_total", INSTANCE, "provider, kind"),
                    labels("provider", "kind"),
                ),
                stack=True,
                w=8,
            ),
            timeseries(
                "Feed reconnects (per 5 min)",
                "short",
                Q(
                    per5m("cift_stream_reconnects_total", INSTANCE, "instance, provider"),
                    labels("instance", "provider"),
                ),
                w=8,
            ),
            timeseries(
                "Rows fetched to fill reconnect gaps",
                "count:rows/s",
                Q(
                    rate("cift_stream_gap_filled_rows_total", INSTANCE, "provider"),
                    labels("provider"),
                ),
                w=8,
            ),
            Row("Stages"),
            timeseries(
                "Rows received by stage",
                "count:rows/s",
                Q(rate("cift_stream_received_rows_total", stage, "stage"), labels("stage")),
            ),
            timeseries(
                "Rows written or published by stage",
                "count:rows/s",
                Q(
                    rate("cift_stream_written_rows_total", stage, "stage, topic"),
                    labels("stage", "topic"),
                ),
            ),
            timeseries(
                "Batches by stage and topic",
                "count:batches/s",
                Q(
                    rate("cift_stream_batches_total", stage, "stage, topic"),
                    labels("stage", "topic"),
                ),
            ),
            timeseries(
                "Consumer lag",
                "count:batches",
                Q(f"max by (stage, topic) ({lag}{stage})", labels("stage", "topic")),
                thresholds=(("green", None), ("red", 100)),
                description="Unacknowledged batches; the alert fires above 100 for 5 min.",
            ),
            timeseries(
                "Publish to done",
                "s",
                *quantiles("cift_stream_publish_to_done_seconds_bucket", "stage", stage),
                description="Time from a batch's publishing to the stage being done with it.",
            ),
            timeseries(
                "Late trades by stage",
                "short",
                Q(f"max by (stage, topic) ({late}{stage})", labels("stage", "topic")),
            ),
            Row("Backfills from providers"),
            timeseries(
                "Rows fetched",
                "count:rows/s",
                Q(rate("cift_ingest_rows_total", by="provider, kind"), labels("provider", "kind")),
                stack=True,
                w=8,
            ),
            timeseries(
                "Pages received",
                "count:pages/s",
                Q(rate("cift_ingest_pages_total", by="provider"), labels("provider")),
                w=8,
            ),
            timeseries(
                "Time waiting on rate limits",
                "percentunit",
                Q(
                    rate("cift_ingest_rate_limit_wait_seconds_total", by="provider"),
                    labels("provider"),
                ),
                w=8,
                description="Seconds waited per second: the provider's throttle and 429 answers.",
            ),
            timeseries(
                "Retries (per 5 min)",
                "short",
                Q(per5m("cift_ingest_retries_total", by="provider"), labels("provider")),
            ),
            timeseries(
                "Empty chunks (per 5 min)",
                "short",
                Q(per5m("cift_ingest_gaps_total", by="provider, kind"), labels("provider", "kind")),
                description="Chunks without rows: a gap in the history, or a closed market.",
            ),
            Row("Features"),
            timeseries(
                "Feature rows computed",
                "count:rows/s",
                Q(
                    rate("cift_features_computed_rows_total", by="job, instance"),
                    labels("job", "instance"),
                ),
            ),
            timeseries(
                "Feature compute time per frame",
                "s",
                *quantiles("cift_features_compute_duration_seconds_bucket", "job"),
            ),
        ),
    )


def store() -> Dashboard:
    chosen = '{backend=~"$backend", kind=~"$kind"}'
    backend = '{backend=~"$backend"}'
    written = "cift_store_written_rows_total"
    duplicate = "cift_store_duplicate_rows_total"
    write = "cift_store_write_duration_seconds"
    query = "cift_store_query_duration_seconds"
    return Dashboard(
        uid="cift-store",
        title="CIFT / Store",
        description=(
            "The market-data store (embedded catalog or QuestDB): rows written, duplicates "
            "skipped, write and query times."
        ),
        tags=("store",),
        variables=(
            variable("backend", "Backend", f"label_values({write}_count, backend)"),
            variable("kind", "Kind", f"label_values({write}_count, kind)"),
        ),
        items=(
            Row("Now"),
            stat(
                "Rows written per second",
                "count:rows/s",
                Q(f"sum(cift:store_written_rows:rate5m{chosen})"),
                w=6,
            ),
            stat(
                "Duplicate share (5 min)",
                "percentunit",
                Q(
                    f"sum(rate({duplicate}{chosen}[5m])) / (sum(rate({duplicate}{chosen}[5m]))"
                    f" + sum(rate({written}{chosen}[5m])))"
                ),
                thresholds=(("green", None), ("orange", 0.5)),
                w=6,
                description="Rows not written because the store held their key (replays).",
            ),
            stat(
                "p95 write time (5 min)",
                "s",
                Q(f"max(cift:store_write_duration_seconds:p95_5m{backend})"),
                thresholds=(("green", None), ("orange", 1), ("red", 5)),
                w=6,
            ),
            stat(
                "p95 query time (5 min)",
                "s",
                Q(f"max(cift:store_query_duration_seconds:p95_5m{backend})"),
                thresholds=(("green", None), ("orange", 1), ("red", 5)),
                w=6,
            ),
            Row("Writes"),
            timeseries(
                "Rows written",
                "count:rows/s",
                Q(rate(written, chosen, "backend, kind"), labels("backend", "kind")),
                stack=True,
            ),
            timeseries(
                "Duplicate rows skipped",
                "count:rows/s",
                Q(rate(duplicate, chosen, "backend, kind"), labels("backend", "kind")),
            ),
            timeseries(
                "Batches written",
                "count:batches/s",
                Q(rate(f"{write}_count", chosen, "backend, kind"), labels("backend", "kind")),
            ),
            timeseries(
                "Write time per batch",
                "s",
                *quantiles(f"{write}_bucket", "backend", chosen, (0.5, 0.95, 0.99)),
                Q(
                    f"{rate(f'{write}_sum', chosen, 'backend')}"
                    f" / {rate(f'{write}_count', chosen, 'backend')}",
                    "mean {{backend}}",
                ),
            ),
            Row("Queries"),
            timeseries(
                "Queries",
                "count:queries/s",
                Q(rate(f"{query}_count", chosen, "backend, kind"), labels("backend", "kind")),
            ),
            timeseries(
                "Query time",
                "s",
                *quantiles(f"{query}_bucket", "backend, kind", chosen),
                description="QuestDB: the SQL round trip; embedded: finding the files to read.",
            ),
        ),
    )


def backtests_jobs() -> Dashboard:
    kind = '{kind=~"$kind"}'
    failed = '{kind=~"$kind", outcome="failed"}'
    jobs_seconds = "cift_jobs_duration_seconds"
    return Dashboard(
        uid="cift-backtests-jobs",
        title="CIFT / Backtests and jobs",
        description="Work the API runs in its worker pool: backtests, sweeps, training runs.",
        tags=("backtest", "jobs"),
        variables=(variable("kind", "Job kind", "label_values(cift_jobs_submitted_total, kind)"),),
        items=(
            Row("Now"),
            stat("Jobs in progress", "short", Q(f"sum(cift_jobs_in_progress{kind})")),
            stat(
                "Jobs failed (range)",
                "short",
                Q(in_range("cift_jobs_finished_total", failed)),
                thresholds=(("green", None), ("red", 1)),
            ),
            stat(
                "Backtests done (range)",
                "short",
                Q(in_range("cift_backtest_runs_total", '{outcome="done"}')),
            ),
            stat("Sweep trials (range)", "short", Q(in_range("cift_sweep_trials_total"))),
            stat(
                "Training runs failed (range)",
                "short",
                Q(in_range("cift_ml_training_runs_total", '{outcome="failed"}')),
                thresholds=(("green", None), ("red", 1)),
            ),
            stat(
                "p95 job time (range)",
                "s",
                Q(
                    "histogram_quantile(0.95, "
                    f"{over('increase', f'{jobs_seconds}_bucket', kind, 'le', '$__range')})"
                ),
            ),
            Row("Jobs"),
            timeseries(
                "Jobs submitted (per 5 min)",
                "short",
                Q(per5m("cift_jobs_submitted_total", kind, "kind"), labels("kind")),
                w=8,
            ),
            timeseries(
                "Jobs ended (per 5 min)",
                "short",
                Q(
                    per5m("cift_jobs_finished_total", kind, "kind, outcome"),
                    labels("kind", "outcome"),
                ),
                w=8,
            ),
            timeseries(
                "Jobs in progress",
                "short",
                Q(f"sum by (kind) (cift_jobs_in_progress{kind})", labels("kind")),
                w=8,
                stack=True,
            ),
            timeseries(
                "Job time, submission to end",
                "s",
                *quantiles("cift_jobs_duration_seconds_bucket", "kind", kind),
                w=24,
            ),
            Row("Backtests and sweeps"),
            timeseries(
                "Backtest runs ended (per 5 min)",
                "short",
                Q(per5m("cift_backtest_runs_total", by="outcome"), labels("outcome")),
                w=8,
            ),
            timeseries(
                "Events replayed",
                "count:events/s",
                Q(rate("cift_backtest_bars_total"), "bars, ticks and quotes"),
                w=8,
            ),
            timeseries(
                "Backtest engine time",
                "s",
                *quantiles("cift_backtest_duration_seconds_bucket"),
                w=8,
            ),
            timeseries(
                "Sweep trials (per 5 min)",
                "short",
                Q(per5m("cift_sweep_trials_total", by="outcome"), labels("outcome")),
            ),
            timeseries("Sweep time", "s", *quantiles("cift_sweep_duration_seconds_bucket")),
            Row("Training"),
            timeseries(
                "Training runs ended (per 5 min)",
                "short",
                Q(per5m("cift_ml_training_runs_total", by="outcome"), labels("outcome")),
            ),
            timeseries(
                "Training time", "s", *quantiles("cift_ml_training_duration_seconds_bucket")
            ),
        ),
    )


def trading() -> Dashboard:
    equity = f"cift_trading_equity_currency{INSTANCE}"
    pnl = f"cift_trading_pnl_currency{INSTANCE}"
    kill = f"cift_trading_kill_switch_state{INSTANCE}"
    orders = "cift_trading_orders_total"
    rejected = "cift_trading_rejected_orders_total"
    differences = "cift_trading_reconciliation_differences_total"
    return Dashboard(
        uid="cift-trading",
        title="CIFT / Trading",
        description=(
            "The live runner (cift trade run): equity, positions, orders, the kill switch, "
            "reconciliation with the broker, account alerts."
        ),
        tags=("trading",),
        variables=(variable("instance", "Runner", 'label_values(up{job="cift-trade"}, instance)'),),
        items=(
            Row("Account"),
            stat(
                "Kill switch",
                "none",
                Q(f"max({kill})"),
                mappings=words(("off", "green"), ("ENGAGED", "red")),
                thresholds=(("green", None), ("red", 1)),
                color_mode="background",
            ),
            stat("Equity", "currencyUSD", Q(f"sum({equity})")),
            stat(
                "P&L",
                "currencyUSD",
                Q(f"sum({pnl})"),
                thresholds=(("red", None), ("green", 0)),
            ),
            stat("Open orders", "short", Q(f"sum(cift_trading_open_orders{INSTANCE})")),
            stat(
                "Orders refused (range)",
                "short",
                Q(in_range(rejected, INSTANCE)),
                thresholds=(("green", None), ("orange", 1)),
            ),
            stat(
                "Reconciliation differences (range)",
                "short",
                Q(in_range(differences, INSTANCE)),
                thresholds=(("green", None), ("red", 1)),
            ),
            timeseries(
                "Equity and P&L",
                "currencyUSD",
                Q(f"sum by (instance) ({equity})", "equity {{instance}}"),
                Q(f"sum by (instance) ({pnl})", "P&L {{instance}}"),
            ),
            timeseries(
                "Position values",
                "currencyUSD",
                Q(
                    f"sum by (symbol) (cift_trading_position_value_currency{INSTANCE})",
                    labels("symbol"),
                ),
                stack=True,
            ),
            Row("Orders"),
            timeseries(
                "Orders by state (per minute)",
                "count:orders/min",
                Q(f"{rate(orders, INSTANCE, 'state')} * 60", labels("state")),
                w=8,
            ),
            timeseries(
                "Orders refused by reason (per minute)",
                "count:orders/min",
                Q(f"{rate(rejected, INSTANCE, 'reason')} * 60", labels("reason")),
                w=8,
            ),
            timeseries(
                "Open orders",
                "short",
                Q(f"sum by (instance) (cift_trading_open_orders{INSTANCE})", labels("instance")),
                w=8,
            ),
            timeseries(
                "Submit to broker acknowledgement",
                "s",
                *quantiles(
                    "cift_trading_submit_to_ack_seconds_bucket",
                    where=INSTANCE,
                    qs=(0.5, 0.95, 0.99),
                ),
            ),
            timeseries(
                "Kill switch",
                "none",
                Q(f"max by (instance) ({kill})", labels("instance")),
                mappings=words(("off", "green"), ("engaged", "red")),
                thresholds=(("green", None), ("red", 1)),
            ),
            timeseries(
                "Order news the bus did not take (API, per minute)",
                "count:orders/min",
                Q(
                    "sum by (instance) (rate(cift_trading_unpublished_orders_total[5m])) * 60",
                    labels("instance"),
                ),
                thresholds=(("green", None), ("orange", 0.01)),
            ),
            Row("Reconciliation and alerts"),
            timeseries(
                "Reconciliations (per 15 min)",
                "short",
                Q(
                    per5m("cift_trading_reconciliation_runs_total", INSTANCE, "instance", "15m"),
                    labels("instance"),
                ),
                w=8,
            ),
            timeseries(
                "Reconciliation differences (per 15 min)",
                "short",
                Q(per5m(differences, INSTANCE, "kind", "15m"), labels("kind")),
                thresholds=(("green", None), ("red", 1)),
                w=8,
            ),
            timeseries(
                "Account alerts fired and delivered (per 15 min)",
                "short",
                Q(per5m("cift_alerts_fired_total", window="15m"), "fired"),
                Q(
                    per5m("cift_alerts_deliveries_total", by="channel, outcome", window="15m"),
                    labels("channel", "outcome"),
                ),
                w=8,
                description="The alert rules users define (prices, P&L, stages), not Prometheus's.",
            ),
        ),
    )


def system() -> Dashboard:
    chosen = '{job=~"$job", instance=~"$instance"}'
    target = labels("job", "instance")
    return Dashboard(
        uid="cift-system",
        title="CIFT / System",
        description=(
            "Every scraped process: up or down, CPU, memory, file descriptors, versions; "
            "the alerts firing."
        ),
        tags=("system",),
        variables=(
            variable("job", "Job", "label_values(up, job)"),
            variable("instance", "Instance", 'label_values(up{job=~"$job"}, instance)'),
        ),
        items=(
            Row("Targets"),
            stat(
                "Targets down",
                "short",
                Q(f"count(up{chosen} == 0) or vector(0)"),
                thresholds=(("green", None), ("red", 1)),
            ),
            stat(
                "CIFT alerts firing",
                "short",
                Q('count(ALERTS{alertstate="firing", alertname=~"Cift.*"}) or vector(0)'),
                thresholds=(("green", None), ("red", 1)),
            ),
            stat(
                "CIFT version",
                "none",
                Q("cift_api_build_info", labels("version")),
                text_mode="name",
                color_mode="none",
                w=6,
            ),
            stat(
                "Python",
                "none",
                Q(f"python_info{chosen}", labels("implementation", "version")),
                text_mode="name",
                color_mode="none",
                w=10,
            ),
            stat(
                "Up",
                "none",
                Q(f"up{chosen}", target),
                mappings=words(("down", "red"), ("up", "green")),
                color_mode="background",
                w=24,
            ),
            timeseries(
                "Firing alerts",
                "short",
                Q(
                    'sum by (alertname, severity) (ALERTS{alertstate="firing"})',
                    "{{alertname}} ({{severity}})",
                ),
            ),
            timeseries("Scrape time", "s", Q(f"scrape_duration_seconds{chosen}", target)),
            Row("Processes"),
            timeseries(
                "CPU",
                "percentunit",
                Q(f"rate(process_cpu_seconds_total{chosen}[{RATE}])", target),
                description="CPU seconds per second: 100% is one core busy.",
            ),
            timeseries(
                "Resident memory", "bytes", Q(f"process_resident_memory_bytes{chosen}", target)
            ),
            timeseries("Open file descriptors", "short", Q(f"process_open_fds{chosen}", target)),
            timeseries(
                "File descriptors used of the limit",
                "percentunit",
                Q(f"process_open_fds{chosen} / process_max_fds{chosen}", target),
                thresholds=(("green", None), ("red", 0.8)),
            ),
            timeseries("Uptime", "s", Q(f"time() - process_start_time_seconds{chosen}", target)),
            timeseries(
                "Python garbage collections",
                "count:collections/s",
                Q(
                    rate("python_gc_collections_total", chosen, "job, instance, generation"),
                    f"{target} gen {{{{generation}}}}",
                ),
            ),
            Row("Prometheus"),
            timeseries("Samples scraped", "short", Q(f"scrape_samples_scraped{chosen}", target)),
            timeseries(
                "Rule evaluation failures (per 5 min)",
                "short",
                Q(
                    per5m("prometheus_rule_evaluation_failures_total", by="rule_group"),
                    labels("rule_group"),
                ),
                thresholds=(("green", None), ("red", 1)),
            ),
        ),
    )


DASHBOARDS = {
    "cift-api.json": api,
    "cift-ingest-streaming.json": ingest_streaming,
    "cift-store.json": store,
    "cift-backtests-jobs.json": backtests_jobs,
    "cift-trading.json": trading,
    "cift-system.json": system,
}


def rendered() -> dict[str, str]:
    """Each dashboard file's name and its text."""
    return {
        name: json.dumps(render(build()), indent=2, ensure_ascii=False) + "\n"
        for name, build in DASHBOARDS.items()
    }


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, text in rendered().items():
        path = OUT / name
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        if check:
            stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python deploy/grafana/build_dashboards.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
