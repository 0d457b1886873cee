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


def test_group_4_counts_dossiers_received_in_the_period_with_files() -> None:
    """Decision 766 group 4 (definition qd766-4): each flag once per dossier, on its receipt
    date, whatever the file's date; rates over the dossiers received in the period (not the
    carried-over ones); a reused component is also a digitised one."""
    import uuid
    from datetime import UTC, date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from domain import events as ev
    from domain.dossier import Dossier, evolve
    from domain.states import Channel
    from motcua.eventstore.reporting import Applied, advance, contributions

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    t0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)

    def attached(purpose: str, *, reused: bool = False, national: bool = False,
                 days: int = 3) -> ev.FileAttached:
        return ev.FileAttached(at=t0 + timedelta(days=days), file_id=str(uuid.uuid4()),
                               name="Tờ khai", kind="copy", pages=1, sha256="ab" * 32, size=9,
                               media_type="application/pdf", uploaded_by="c", purpose=purpose,
                               digitised=not reused, reused=reused,
                               reused_from="X" if reused else None,
                               from_national_store=national)

    events: list[ev.Event] = [
        ev.DossierReceived(at=t0, code="C-1", unit_code="U", procedure_code="1.004222",
                           channel=Channel.COUNTER, applicant_name="A", documents=("Tờ khai",)),
        attached("component", reused=True, national=True),
        attached("component"), attached("result", days=9)]
    state, fact = Dossier(), None
    for event in events:
        after = evolve(state, event)
        fact = advance(fact, Applied(event, state, after), tz)
        state = after
    assert fact is not None
    assert (fact.has_component_file, fact.has_reused_file, fact.has_national_store_file,
            fact.has_result_file) == (True, True, True, True)
    digitisation = sorted((d, m) for d, m, _ in contributions(fact) if m.startswith("dig_"))
    assert digitisation == [(date(2026, 12, 7), m) for m in
                            ("dig_components", "dig_national", "dig_result", "dig_reused")]
    row = Row(unit_code=None, procedure_code=None, received_direct_postal=8, received_online=2,
              received_carried_over=5, digitised_components=8, digitised_reused=2,
              digitised_national_store=1, electronic_results=4).as_dict()
    assert (row["digitised_rate"], row["reuse_rate"], row["national_store_rate"],
            row["electronic_result_rate"]) == (0.8, 0.2, 0.1, 0.4)
    assert Row(unit_code=None, procedure_code=None).as_dict()["digitised_rate"] is None
    ids = {d["id"]: d for d in DEFINITIONS}
    assert "group 4" in ids["qd766-4"]["source"] and "our reading" in ids["qd766-4"]["text"]
