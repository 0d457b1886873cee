"""Decision 766 item 5.4 as written: over dossiers, complaints included (issue 11 point 6)."""

from __future__ import annotations

from motcua.reports.sla import DEFINITIONS, Row


def test_item_5_4_is_over_dossiers_with_complaints() -> None:
    """100% - (late rate + rate of dossiers with a complaint or a not-satisfied rating)."""
    row = Row(unit_code=None, procedure_code=None, received_direct_postal=10, resolved_early=6,
              resolved_on_time=2, resolved_late=2, rated_satisfied=5, rated_not_satisfied=1,
              complained_or_not_satisfied=3)
    out = row.as_dict()
    assert out["on_time_rate"] == 0.8
    assert out["satisfaction_index"] == 0.5        # 1 - 0.2 - 3/10
    assert out["satisfaction_rate"] == round(5 / 6, 6)  # ours, over ratings
    assert out["complained_or_not_satisfied"] == 3
    floor = Row(unit_code=None, procedure_code=None, received_direct_postal=2, resolved_late=2,
                complained_or_not_satisfied=2).as_dict()
    assert floor["satisfaction_index"] == 0.0
    ids = {d["id"]: d for d in DEFINITIONS}
    assert "item 5.4" in ids["qd766-5.4"]["source"] and "our reading" in ids["qd766-5.4"]["text"]
    assert "ours" in ids["motcua-satisfaction-rate"]["source"]
