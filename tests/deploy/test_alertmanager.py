"""Alertmanager: the config loads (amtool check-config) and routes each kind of alert where the
runbook says it goes (amtool config routes test)."""

from __future__ import annotations

import pytest

from tests.deploy._support import DEPLOY, run

CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"


def test_config_passes_amtool_check(amtool: str) -> None:
    run([amtool, "check-config", str(CONFIG)])


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        # unit-scoped SLA alerts reach the unit's leaders and ops
        (["severity=page", "unit=H35", "alertname=MotcuaOverdueWithoutApology"],
         "unit-leaders,ops-page"),
        (["severity=ticket", "unit=H35", "alertname=MotcuaDossiersOverdue"],
         "unit-leaders,ops-ticket"),
        # engine alerts have no unit
        (["severity=page", "alertname=MotcuaWorkerDown"], "ops-page"),
        (["severity=ticket", "alertname=MotcuaProjectionLagging"], "ops-ticket"),
        # info goes to the digest only, even with a unit
        (["severity=info", "unit=H35", "alertname=MotcuaLateReturns"], "ops-digest"),
        # anything unexpected still reaches a human
        (["alertname=Unknown"], "ops-ticket"),
    ],
)
def test_routing(amtool: str, labels: list[str], receivers: str) -> None:
    run([amtool, "config", "routes", "test", f"--config.file={CONFIG}",
         f"--verify.receivers={receivers}", *labels])
