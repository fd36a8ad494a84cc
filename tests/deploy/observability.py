"""Reading the Prometheus and Grafana configuration under ``deploy/``: the PromQL of the
rules and dashboards, the CIFT metric names it uses, and the names a process exports."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
PROMETHEUS_CONFIG = PROMETHEUS / "prometheus.yml"
RULES = PROMETHEUS / "rules"
RULE_TESTS = PROMETHEUS / "tests" / "cift_test.yml"
GRAFANA = DEPLOY / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "datasources.yml"
DASHBOARD_PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "dashboards.yml"
COMPOSE = DEPLOY / "docker-compose.yml"

HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_CIFT_NAME = re.compile(r"(?<![\w:])cift_[A-Za-z0-9_]*")
_SAMPLE_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")

Json = dict[str, Any]


def promtool() -> Path | None:
    """The promtool binary: on the PATH, Debian's, or in ``.tools/bin``."""
    found = shutil.which("promtool")
    if found:
        return Path(found)
    for candidate in (Path("/usr/bin/promtool"), ROOT / ".tools" / "bin" / "promtool"):
        if candidate.is_file():
            return candidate
    return None


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def rule_files() -> list[Path]:
    return sorted(RULES.glob("*.yml"))


def rules() -> list[Json]:
    """Every recording and alerting rule of ``deploy/prometheus/rules/*.yml``."""
    return [
        rule
        for path in rule_files()
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
    ]


def dashboards() -> dict[str, Json]:
    """Each dashboard JSON file's name and content."""
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(DASHBOARDS.glob("*.json"))
    }


def panels(dashboard: Json) -> Iterator[Json]:
    """The dashboard's panels that draw something (rows left out, collapsed rows opened)."""
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def variable_query(variable: Json) -> str:
    query = variable.get("query", "")
    return query["query"] if isinstance(query, dict) else query


def dashboard_exprs(dashboard: Json) -> list[str]:
    """The PromQL of every panel target, query variable and annotation of ``dashboard``."""
    exprs = [target["expr"] for panel in panels(dashboard) for target in panel["targets"]]
    exprs += [
        variable_query(variable)
        for variable in dashboard.get("templating", {}).get("list", [])
        if variable.get("type") == "query"
    ]
    exprs += [
        note["expr"] for note in dashboard.get("annotations", {}).get("list", []) if "expr" in note
    ]
    return exprs


def rule_exprs() -> list[str]:
    return [rule["expr"] for rule in rules()]


def series_names(exprs: Iterable[str]) -> set[str]:
    """The ``cift_...`` series names ``exprs`` select, as written (string literals and
    recorded series such as ``cift:api_requests:rate5m`` are not names of CIFT metrics)."""
    return {name for expr in exprs for name in _CIFT_NAME.findall(_STRING.sub('""', expr))}


def metric_name(series: str) -> str:
    """The metric a series belongs to: a histogram's ``_bucket``, ``_sum`` and ``_count``
    series belong to the histogram."""
    for suffix in HISTOGRAM_SERIES:
        if series.endswith(suffix):
            return series.removesuffix(suffix)
    return series


def metric_names(exprs: Iterable[str]) -> set[str]:
    return {metric_name(series) for series in series_names(exprs)}


def dashboard_metrics() -> set[str]:
    """The CIFT metrics some dashboard shows."""
    return metric_names(expr for board in dashboards().values() for expr in dashboard_exprs(board))


def referenced_metrics() -> set[str]:
    """Every CIFT metric a dashboard or a rule uses, by its exported name (counters with
    ``_total``, histograms by their own name)."""
    return dashboard_metrics() | metric_names(rule_exprs())


def exported_names(text: str) -> set[str]:
    """The family and sample names of a Prometheus text exposition (the 0.0.4 text format
    or OpenMetrics), so that ``referenced_metrics() <= exported_names(scraped)`` holds
    even for a labelled family that has no series yet."""
    names: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in {"HELP", "TYPE"}:
                names.add(parts[2])
                kind = parts[3].strip() if len(parts) == 4 else ""
                if parts[1] == "TYPE" and kind == "counter":
                    # OpenMetrics names a counter's family without the _total its samples carry
                    names.add(parts[2] if parts[2].endswith("_total") else f"{parts[2]}_total")
            continue
        sample = _SAMPLE_NAME.match(line)
        if sample:
            names.add(sample.group())
    return names


def datasource_uids() -> dict[str, str]:
    """The provisioned Grafana data sources: uid to type."""
    return {source["uid"]: source["type"] for source in load_yaml(DATASOURCES)["datasources"]}


def scrape_targets() -> dict[str, list[str]]:
    """Each scrape job of ``prometheus.yml`` and its static targets."""
    return {
        job["job_name"]: [
            target for config in job.get("static_configs", []) for target in config["targets"]
        ]
        for job in load_yaml(PROMETHEUS_CONFIG)["scrape_configs"]
    }
