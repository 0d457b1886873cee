"""The counting-rule version travels with a dossier: due times given under rule v1 stay as
given when a supplement or a calendar correction recomputes them (issue 11 point 1)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from domain import commands as cmd
from domain.calendar import Calendar
from domain.catalog import TimeUnit
from domain.clock import RULE_VERSION, add_working_time, due_at
from domain.contracts import DeadlineRequest, Pause
from domain.deadlines import compute
from domain.decide import decide
from domain.dossier import fold
from domain.states import Channel
from motcua.catalog.source import load_catalog

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SUNDAY_EVENING = datetime(2025, 3, 9, 20, 0, tzinfo=VN)


def _working_days_procedure() -> str:
    catalog = load_catalog()
    return next(p.code for p in catalog.procedures.values()
                if p.reduced_unit == TimeUnit.WORKING_DAYS and p.reduced_amount >= 2)


def test_new_receipt_uses_the_rule_in_force(cal: Calendar) -> None:
    """Without a recorded version the rule in force is used and recorded with its texts."""
    catalog = load_catalog()
    code = _working_days_procedure()
    proc = catalog.procedure(code)
    result = compute(cal, catalog, DeadlineRequest(procedure_code=code,
                                                   received_at=SUNDAY_EVENING))
    assert result.rule_version == RULE_VERSION
    assert "Điều 147 khoản 2" in result.rule_source
    assert result.due_at == due_at(cal, SUNDAY_EVENING, proc.reduced_amount, proc.reduced_unit)


def test_recomputation_keeps_rule_v1(cal: Calendar) -> None:
    """A dossier received under rule v1 keeps v1 when its due time is recomputed."""
    catalog = load_catalog()
    code = _working_days_procedure()
    proc = catalog.procedure(code)
    pause = Pause(start=datetime(2025, 3, 10, 9, 0, tzinfo=VN),
                  end=datetime(2025, 3, 10, 10, 0, tzinfo=VN))
    old = compute(cal, catalog, DeadlineRequest(procedure_code=code, received_at=SUNDAY_EVENING,
                                                pauses=[pause], rule_version=1))
    new = compute(cal, catalog, DeadlineRequest(procedure_code=code, received_at=SUNDAY_EVENING,
                                                pauses=[pause]))
    assert old.rule_version == 1 and "v1" in old.rule_source
    v1_base = due_at(cal, SUNDAY_EVENING, proc.reduced_amount, proc.reduced_unit, rule_version=1)
    assert old.due_at == add_working_time(cal, v1_base, timedelta(hours=1))  # + the pause
    assert new.due_at < old.due_at  # v2 gives one working day less for a Sunday receipt


def test_dossier_remembers_the_receipt_rule_version() -> None:
    """The fold keeps the receipt deadline's version; events without one are rule v1."""
    received = decide(fold([]), cmd.ReceiveDossier(
        code="000.21.39.H39-250309-0001", unit_code="000.21.39.H39", procedure_code="1.004837",
        channel=Channel.ONLINE, applicant_name="Nguyễn Văn An", actor="clerk-1"),
        SUNDAY_EVENING)
    state = fold(received)
    assert state.counting_rule_version is None  # before any due time: the rule in force

    def deadline(version: int | None) -> cmd.SetDeadline:
        extra = {} if version is None else {"rule_version": version, "rule_source": "x"}
        return cmd.SetDeadline(
            due_at=datetime(2025, 3, 11, 17, tzinfo=VN),
            due_soon_at=datetime(2025, 3, 10, 17, tzinfo=VN), reason="receipt",
            rule="civil_code", amount=2, unit="working_days", calendar_version="c",
            catalog_version="k", actor="system", **extra)  # type: ignore[arg-type]

    legacy = fold(decide(state, deadline(None), SUNDAY_EVENING), state)
    assert legacy.counting_rule_version == 1
    assert legacy.counting_rule[0] == "civil_code/working_days@v1"
    current = fold(decide(state, deadline(2), SUNDAY_EVENING), state)
    assert current.counting_rule_version == 2
    assert current.counting_rule == ("civil_code/working_days@v2", "x")
