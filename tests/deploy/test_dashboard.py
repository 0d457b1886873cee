"""Grafana dashboard and alert rules speak only about metrics that exist.

Every PromQL expression (dashboard panels, template variables, alert and recording rules) must
parse (promtool is the authority) and name only metrics that motcua exports, recording rules
defined in the rules file, an allow-list of Temporal Core SDK metrics, or Prometheus' own `up`
and `ALERTS`. Names are extracted with promql-parser; a typo in a panel fails here instead of
drawing an empty graph in production.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml

from tests.deploy._support import DEPLOY, RULES_FILE, run
from tests.deploy.test_metrics import populated_registry

DASHBOARD = DEPLOY / "grafana" / "dashboards" / "motcua.json"

# Exported by the worker's Temporal Runtime with PrometheusConfig(counters_total_suffix=True,
# unit_suffix=True, durations_as_seconds=True). Names checked against a real scrape of
# temporalio 1.35 (failure counters appear only after a failure; names from sdk-core).
TEMPORAL_SDK_METRICS = {
    "temporal_num_pollers",
    "temporal_worker_task_slots_available",
    "temporal_worker_task_slots_used",
    "temporal_sticky_cache_size",
    "temporal_request_total",
    "temporal_request_failure_total",
    "temporal_long_request_total",
    "temporal_long_request_failure_total",
    "temporal_workflow_completed_total",
    "temporal_workflow_failed_total",
    "temporal_workflow_task_execution_failed_total",
    "temporal_activity_execution_failed_total",
    *(
        f"temporal_{h}_seconds_{suffix}"
        for h in ("workflow_task_schedule_to_start_latency", "activity_schedule_to_start_latency",
                  "workflow_task_execution_latency", "activity_execution_latency",
                  "request_latency", "workflow_endtoend_latency")
        for suffix in ("bucket", "count", "sum")
    ),
}
PROMETHEUS_METRICS = {"up", "ALERTS"}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1d",
                     "$unit": ".*", "${unit}": ".*"}


def _dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def _panels() -> list[dict[str, Any]]:
    return [p for p in _dashboard()["panels"] if p["type"] != "row"]


def _substitute(expr: str) -> str:
    for var, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(var, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
    return expr


def dashboard_exprs() -> list[str]:
    exprs = [_substitute(t["expr"]) for p in _panels() for t in p["targets"]]
    for var in _dashboard()["templating"]["list"]:
        if var["type"] == "query":  # label_values(metric, label): check the metric part
            match = re.fullmatch(r"label_values\((.+),\s*\w+\)", var["query"]["query"])
            assert match, var["query"]
            exprs.append(_substitute(match.group(1)))
    return exprs


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def rule_exprs() -> list[str]:
    return [rule["expr"] for rule in _rules()]


def allowed_names() -> set[str]:
    registry, _ = populated_registry()
    # Sample names, not family names: a counter family `x` is only ever exported as `x_total`.
    code = {s.name for f in registry.collect() for s in f.samples}
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    return code | recorded | TEMPORAL_SDK_METRICS | PROMETHEUS_METRICS


def metric_names(expr: str) -> set[str]:
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            name = node.name
            if name is None:  # {__name__="..."}
                name = next((m.value for m in node.matchers.matchers if m.name == "__name__"), None)
            assert name, f"selector without a metric name in {expr!r}"
            names.add(name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def test_dashboard_structure() -> None:
    dash = _dashboard()
    assert dash["uid"] and dash["title"]
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    cells: dict[tuple[int, int], str] = {}
    for p in dash["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{p['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = p["title"]
    for p in _panels():
        assert p["targets"], p["title"]
        assert p["datasource"]["uid"] == "${datasource}", p["title"]
    titles = " ".join(p["title"].lower() for p in _panels())
    for topic in ("state", "sla status", "on-time", "received vs returned", "turnaround",
                  "breaches", "notification", "schedule-to-start", "projection lag",
                  "api latency"):
        assert topic in titles, f"no panel about {topic}"


def test_every_expression_parses_with_promtool(promtool: str, tmp_path: Path) -> None:
    exprs = dashboard_exprs() + rule_exprs()
    rules = {"groups": [{"name": "exprs", "rules": [
        {"record": f"check:expr_{i}", "expr": e} for i, e in enumerate(exprs)]}]}
    path = tmp_path / "exprs.yml"
    path.write_text(yaml.safe_dump(rules))
    run([promtool, "check", "rules", str(path)])


@pytest.mark.parametrize("source", ["dashboard", "rules"])
def test_expressions_name_only_exported_metrics(source: str) -> None:
    exprs = dashboard_exprs() if source == "dashboard" else rule_exprs()
    allowed = allowed_names()
    unknown = {n for e in exprs for n in metric_names(e)} - allowed
    assert not unknown, f"{source} uses metrics nobody exports: {sorted(unknown)}"


def test_every_motcua_metric_is_watched() -> None:
    """A metric nobody charts or alerts on is dead weight (or a forgotten panel)."""
    used = {n for e in dashboard_exprs() + rule_exprs() for n in metric_names(e)}
    registry, _ = populated_registry()
    for family in registry.collect():
        names = {family.name} | {s.name for s in family.samples}
        assert names & used, f"{family.name} is in no panel and no rule"


def test_grafana_provisioning_points_at_the_mounted_dashboards() -> None:
    """Provisioning paths agree with the compose mounts (Grafana itself is not run here)."""
    provisioning = DEPLOY / "grafana" / "provisioning"
    providers = yaml.safe_load((provisioning / "dashboards" / "motcua.yml").read_text())
    path = providers["providers"][0]["options"]["path"]
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{path}:ro" in mounts
    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
