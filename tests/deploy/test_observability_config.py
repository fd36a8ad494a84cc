"""The Prometheus configuration, alert rules and Grafana dashboards under ``deploy/``:
promtool accepts them and their unit tests pass, the dashboards are well formed, and every
CIFT metric they use exists while every metric is watched on some dashboard."""

from __future__ import annotations

import importlib
import re
import runpy
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import prometheus_client
import pytest
import yaml
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import CollectorRegistry

from cift.cli.metrics_docs import metric_modules
from cift.core import metrics
from tests.deploy import observability as obs
from tests.servers import tool_missing

ALERTS = {
    "CiftApiTargetDown",
    "CiftApiErrorRateHigh",
    "CiftStreamWorkerDown",
    "CiftStreamConsumerLagHigh",
    "CiftIngestStalled",
    "CiftJobsFailed",
    "CiftKillSwitchEngaged",
    "CiftReconciliationDifferences",
}
DASHBOARD_FILES = {
    "cift-api.json",
    "cift-ingest-streaming.json",
    "cift-store.json",
    "cift-backtests-jobs.json",
    "cift-trading.json",
    "cift-system.json",
}
BROKEN_RULES = """\
groups:
  - name: broken
    rules:
      - alert: Unbalanced
        expr: sum(rate(cift_api_requests_total[5m])
        for: 5m
"""


@pytest.fixture(scope="module")
def promtool() -> Path:
    found = obs.promtool()
    if found is None:
        tool_missing("promtool (Debian's prometheus package)")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def catalogue() -> dict[str, str]:
    """Every CIFT metric this version exports: name to type."""
    for module in metric_modules():
        importlib.import_module(module)
    return {name: kind for name, kind, _, _ in metrics.catalogue()}


def run(promtool: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=obs.ROOT,
        check=False,
    )


# --- Prometheus ------------------------------------------------------------------------


def test_promtool_accepts_the_configuration_and_its_rule_files(promtool: Path) -> None:
    done = run(promtool, "check", "config", obs.PROMETHEUS_CONFIG)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(obs.rule_files())} rule files found" in done.stdout


def test_promtool_accepts_the_rules(promtool: Path) -> None:
    done = run(promtool, "check", "rules", *obs.rule_files())
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(obs.rules())} rules found" in done.stdout


def test_the_rule_unit_tests_pass(promtool: Path) -> None:
    done = run(promtool, "test", "rules", obs.RULE_TESTS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_rejects_a_broken_rule_file(promtool: Path, tmp_path: Path) -> None:
    """The checks above can fail: a rule with bad PromQL, and a configuration loading it."""
    (tmp_path / "rules").mkdir()
    broken = tmp_path / "rules" / "broken.yml"
    broken.write_text(BROKEN_RULES)
    done = run(promtool, "check", "rules", broken)
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr
    config = tmp_path / "prometheus.yml"
    config.write_text(obs.PROMETHEUS_CONFIG.read_text())
    done = run(promtool, "check", "config", config)
    assert done.returncode != 0
    assert "broken.yml" in done.stdout + done.stderr


def test_the_rule_unit_tests_catch_a_changed_threshold(promtool: Path, tmp_path: Path) -> None:
    """An alert that no longer fires when it should fails its unit test."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    rules = (obs.RULES / "cift.yml").read_text()
    assert "cift:api_error_ratio:rate5m > 0.05" in rules
    (tmp_path / "rules" / "cift.yml").write_text(
        rules.replace("cift:api_error_ratio:rate5m > 0.05", "cift:api_error_ratio:rate5m > 0.5")
    )
    (tmp_path / "tests" / "cift_test.yml").write_text(obs.RULE_TESTS.read_text())
    done = run(promtool, "test", "rules", tmp_path / "tests" / "cift_test.yml")
    assert done.returncode != 0
    assert "CiftApiErrorRateHigh" in done.stdout + done.stderr


def test_the_scrape_jobs() -> None:
    config = obs.load_yaml(obs.PROMETHEUS_CONFIG)
    assert config["rule_files"] == ["rules/*.yml"]
    assert obs.scrape_targets() == {
        "cift-api": ["api:8000"],
        "cift-stream": [
            "stream-ingest:9101",
            "stream-store:9102",
            "stream-bars:9103",
            "stream-features:9104",
        ],
        "cift-trade": ["trade:9105"],
        "jaeger": ["jaeger:14269"],
        "prometheus": ["localhost:9090"],
    }


def test_every_alert_has_a_window_a_severity_and_words() -> None:
    alerts = [rule for rule in obs.rules() if "alert" in rule]
    assert {rule["alert"] for rule in alerts} == ALERTS
    for rule in alerts:
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert len(rule["annotations"]["description"]) > len(rule["annotations"]["summary"])


def test_recorded_series_are_named_level_metric_operations() -> None:
    recorded = [rule["record"] for rule in obs.rules() if "record" in rule]
    assert {"cift:api_requests:rate5m", "cift:api_error_ratio:rate5m"} <= set(recorded)
    assert {"cift:api_request_duration_seconds:p95_5m", "cift:stream_rows:rate1m"} <= set(recorded)
    for name in recorded:
        assert re.fullmatch(r"cift:[a-z0-9_]+:[a-z0-9_]+", name), name


def test_every_alert_is_tested_firing_and_quiet() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in obs.load_yaml(obs.RULE_TESTS)["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    assert firing == ALERTS
    assert quiet == ALERTS


# --- Grafana ---------------------------------------------------------------------------


def test_the_data_sources() -> None:
    sources = obs.load_yaml(obs.DATASOURCES)["datasources"]
    by_uid = {source["uid"]: source for source in sources}
    assert by_uid["prometheus"]["url"] == "http://prometheus:9090"
    assert by_uid["jaeger"]["url"] == "http://jaeger:16686"
    assert [source["uid"] for source in sources if source.get("isDefault")] == ["prometheus"]
    assert obs.datasource_uids() == {"prometheus": "prometheus", "jaeger": "jaeger"}


def test_the_dashboard_provider_reads_the_mounted_folder() -> None:
    (provider,) = obs.load_yaml(obs.DASHBOARD_PROVIDERS)["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/dashboards"


def test_the_dashboards_are_there_with_stable_uids() -> None:
    boards = obs.dashboards()
    assert set(boards) == DASHBOARD_FILES
    for name, board in boards.items():
        assert board["uid"] == name.removesuffix(".json")
        assert board["title"].startswith("CIFT / ")
        assert board["id"] is None
        assert 36 <= board["schemaVersion"] <= 41
        assert board["panels"]
    assert len({board["title"] for board in boards.values()}) == len(boards)


@pytest.mark.parametrize("name", sorted(DASHBOARD_FILES))
def test_every_panel_queries_a_provisioned_source(name: str) -> None:
    board = obs.dashboards()[name]
    uids = obs.datasource_uids()
    ids = [panel["id"] for panel in board["panels"]] + [
        nested["id"] for row in board["panels"] for nested in row.get("panels", [])
    ]
    assert len(ids) == len(set(ids))
    drawn = list(obs.panels(board))
    assert drawn
    for panel in drawn:
        assert panel["type"] in {"timeseries", "stat"}, panel["title"]
        assert panel["title"].strip()
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
        assert panel["datasource"]["uid"] in uids, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert uids[target["datasource"]["uid"]] == "prometheus", panel["title"]
    for variable in board["templating"]["list"]:
        assert variable["datasource"]["uid"] in uids, variable["name"]
        assert obs.variable_query(variable).startswith("label_values("), variable["name"]


@pytest.mark.parametrize("name", sorted(DASHBOARD_FILES))
def test_panels_do_not_overlap(name: str) -> None:
    taken: set[tuple[int, int]] = set()
    for panel in obs.dashboards()[name]["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & taken, panel["title"]
        taken |= cells


def grafana_free(expr: str) -> str:
    """``expr`` as Prometheus would receive it from Grafana (variables filled in)."""
    for variable, value in (("$__rate_interval", "1m"), ("$__range", "1h"), ("$__interval", "1m")):
        expr = expr.replace(variable, value)
    expr = re.sub(r"\$\{?\w+\}?", ".*", expr)
    selector = re.fullmatch(r"label_values\((.*),\s*\w+\)", expr.strip(), re.DOTALL)
    return selector.group(1) if selector else expr


def test_every_dashboard_query_is_valid_promql(promtool: Path, tmp_path: Path) -> None:
    exprs = sorted(
        {grafana_free(e) for board in obs.dashboards().values() for e in obs.dashboard_exprs(board)}
    )
    assert len(exprs) > 100
    checked = tmp_path / "dashboards.yml"
    records = [{"record": f"dashboard_query_{n}", "expr": expr} for n, expr in enumerate(exprs)]
    checked.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": records}]}))
    done = run(promtool, "check", "rules", checked)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dashboards_are_what_their_generator_writes() -> None:
    written = runpy.run_path(str(obs.GRAFANA / "build_dashboards.py"))["rendered"]()
    assert set(written) == DASHBOARD_FILES
    for name, text in written.items():
        assert (obs.DASHBOARDS / name).read_text(encoding="utf-8") == text, (
            f"{name} is out of date: run python deploy/grafana/build_dashboards.py"
        )


# --- the metrics they use ----------------------------------------------------------------


def test_series_names_skip_strings_and_recorded_series() -> None:
    exprs = [
        'sum by (le) (rate(cift_api_request_duration_seconds_bucket{route="/cift_x"}[5m]))',
        'cift:api_requests:rate5m{job="cift-api"} / on (job) cift_jobs_in_progress',
        "label_values(cift_store_write_duration_seconds_count, backend)",
    ]
    assert obs.series_names(exprs) == {
        "cift_api_request_duration_seconds_bucket",
        "cift_jobs_in_progress",
        "cift_store_write_duration_seconds_count",
    }
    assert obs.metric_names(exprs) == {
        "cift_api_request_duration_seconds",
        "cift_jobs_in_progress",
        "cift_store_write_duration_seconds",
    }


def test_every_referenced_metric_exists(catalogue: dict[str, str]) -> None:
    known = set(catalogue) | {
        f"{name}{suffix}"
        for name, kind in catalogue.items()
        if kind == "histogram"
        for suffix in obs.HISTOGRAM_SERIES
    }
    referenced = obs.referenced_metrics()
    assert len(referenced) > 30
    assert referenced - known == set()


def test_histograms_are_queried_through_their_series(catalogue: dict[str, str]) -> None:
    """A histogram's own name selects nothing: queries use its _bucket, _sum or _count."""
    exprs = obs.rule_exprs() + [
        expr for board in obs.dashboards().values() for expr in obs.dashboard_exprs(board)
    ]
    histograms = {name for name, kind in catalogue.items() if kind == "histogram"}
    assert obs.series_names(exprs) & histograms == set()


def test_every_metric_is_on_a_dashboard(catalogue: dict[str, str]) -> None:
    assert set(catalogue) - obs.dashboard_metrics() == set()


def test_the_alerts_watch_the_metrics_they_name() -> None:
    used = obs.metric_names(obs.rule_exprs())
    assert {
        "cift_api_requests_total",
        "cift_stream_consumer_lag_batches",
        "cift_stream_feed_rows_total",
        "cift_trading_kill_switch_state",
        "cift_trading_reconciliation_differences_total",
        "cift_jobs_finished_total",
    } <= used


@pytest.mark.parametrize(
    "generate",
    [prometheus_client.generate_latest, openmetrics.generate_latest],
    ids=["text", "openmetrics"],
)
def test_a_process_exports_every_referenced_name(
    catalogue: dict[str, str], generate: Callable[[CollectorRegistry], bytes]
) -> None:
    """What this process exposes (every stage module loaded) covers what the dashboards and
    rules use, read from either exposition format."""
    text = generate(prometheus_client.REGISTRY).decode()
    exported = obs.exported_names(text)
    assert obs.referenced_metrics() <= exported
    assert set(catalogue) <= exported


def test_exported_names_reads_families_and_samples() -> None:
    text = """\
# HELP cift_trading_orders_total Orders reaching each state.
# TYPE cift_trading_orders_total counter
cift_trading_orders_total{state="filled"} 3.0
# HELP cift_backtest_runs Recorded backtest runs that ended.
# TYPE cift_backtest_runs counter
# HELP cift_store_write_duration_seconds Time to validate and write one batch.
# TYPE cift_store_write_duration_seconds histogram
cift_store_write_duration_seconds_bucket{backend="embedded",le="+Inf"} 2.0
cift_store_write_duration_seconds_count{backend="embedded"} 2.0
up 1
# EOF
"""
    assert obs.exported_names(text) == {
        "cift_trading_orders_total",
        "cift_backtest_runs",
        "cift_backtest_runs_total",
        "cift_store_write_duration_seconds",
        "cift_store_write_duration_seconds_bucket",
        "cift_store_write_duration_seconds_count",
        "up",
    }


# --- against the compose stack -------------------------------------------------------------


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return obs.load_yaml(obs.COMPOSE)["services"]


def service_ports(service: dict[str, Any]) -> set[str]:
    published = {str(port).rsplit(":", 1)[-1] for port in service.get("ports", [])}
    return published | {str(port) for port in service.get("expose", [])}


def test_the_cift_targets_are_compose_services(services: dict[str, Any]) -> None:
    targets = obs.scrape_targets()
    for target in targets["cift-api"] + targets["cift-stream"] + targets["jaeger"]:
        host, port = target.rsplit(":", 1)
        assert host in services, target
        assert port in service_ports(services[host]), target


def test_grafana_and_prometheus_mount_these_files(services: dict[str, Any]) -> None:
    prometheus = services["prometheus"]["volumes"]
    grafana = services["grafana"]["volumes"]
    assert "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus
    assert "./prometheus/rules:/etc/prometheus/rules:ro" in prometheus
    assert "./grafana/provisioning/datasources:/etc/grafana/provisioning/datasources:ro" in grafana
    assert "./grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards:ro" in grafana
    assert "./grafana/dashboards:/etc/grafana/dashboards:ro" in grafana
    assert {"9090"} <= service_ports(services["prometheus"])
    assert {"16686"} <= service_ports(services["jaeger"])
