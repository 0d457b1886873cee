"""Prometheus config and alert rules: syntax (promtool), behaviour (promtool unit tests), and the
conventions operators rely on (severity, annotations, a runbook section per alert)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy._support import DEPLOY, PROMETHEUS, RULES_FILE, run

RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
SEVERITIES = {"page", "ticket", "info"}


def _alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES_FILE.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading (lower case, punctuation dropped)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_rules_pass_promtool_check(promtool: str) -> None:
    run([promtool, "check", "rules", str(RULES_FILE)])


def test_config_passes_promtool_check(promtool: str) -> None:
    # Run from the config's folder: rule_files are resolved relative to it, as in the container.
    out = run([promtool, "check", "config", "prometheus.yml"], cwd=PROMETHEUS)
    assert "1 rule files found" in out, out


@pytest.mark.slow  # about 20 s of promtool CPU: not in the fast loop
def test_rule_unit_tests_pass(promtool: str) -> None:
    assert RULE_TESTS, "deploy/prometheus/tests/*.yml missing"
    run([promtool, "test", "rules", *[p.name for p in RULE_TESTS]], cwd=PROMETHEUS / "tests")


def test_every_alert_has_severity_annotations_and_runbook_section() -> None:
    runbook = (DEPLOY / "RUNBOOK.md").read_text()
    anchors = {_github_anchor(m) for m in re.findall(r"^#{1,6} (.+)$", runbook, re.M)}
    names = [a["alert"] for a in _alerts()]
    assert len(names) == len(set(names)), "duplicate alert names"
    for alert in _alerts():
        name = alert["alert"]
        assert alert.get("labels", {}).get("severity") in SEVERITIES, name
        annotations = alert.get("annotations", {})
        assert {"summary", "description", "runbook_url"} <= set(annotations), name
        url = annotations["runbook_url"]
        assert url.startswith("deploy/RUNBOOK.md#"), (name, url)
        assert url.split("#", 1)[1] in anchors, f"{name}: no RUNBOOK.md section for {url}"


def _cases(path: Path) -> list[tuple[str, bool]]:
    doc = yaml.safe_load(path.read_text())
    assert str(RULES_FILE.relative_to(PROMETHEUS)) in [
        str((path.parent / f).resolve().relative_to(PROMETHEUS)) for f in doc["rule_files"]
    ], f"{path.name} does not test the real rules file"
    return [
        (case["alertname"], bool(case.get("exp_alerts")))
        for test in doc["tests"]
        for case in test.get("alert_rule_test", [])
    ]


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    cases = [case for path in RULE_TESTS for case in _cases(path)]
    for name in (a["alert"] for a in _alerts()):
        assert (name, True) in cases, f"{name}: no promtool case where it fires"
        assert (name, False) in cases, f"{name}: no promtool case where it must stay quiet"
    unknown = {name for name, _ in cases} - {a["alert"] for a in _alerts()}
    assert not unknown, f"tests name alerts that do not exist: {unknown}"
