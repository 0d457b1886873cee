"""The dossier page names who made it late (issue 22 items 5-6): every run judged late
against its own due instant, with the person who held it and the unit answering for it, and
the open step past its due time; each run in the trail with its due time and verdict. Pure:
the panel is built from the folded events of the Nghệ An send-back walk of
`tests/test_step_reports.py` (whose verdicts are worked out by hand there)."""

from __future__ import annotations

import pytest

from domain.dossier import fold
from motcua.catalog.calendar import load_calendar
from motcua.catalog.source import load_catalog
from motcua.console import dossier as page
from tests.test_step_reports import U1, at, walk_events


def test_the_panel_names_the_late_runs_and_the_open_overdue_step(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cal = load_calendar()
    d = fold(walk_events(cal, f"{U1}-260302-0009"))
    monkeypatch.setattr(page, "now", lambda: at("2026-03-12", "12:00"))
    panel = page.steps_panel(d, load_catalog(), cal.tz, {"cv-1": "Trần Văn Cường"})
    late = panel["late"]
    # Step 3's second run, held by cv-1 (named by display name), due Fri 6 March 17:00 and
    # handed over Monday; then the third run, open past Wed 11 March 16:00, handed to nobody
    # by name: the step's actor as the decision prints it.
    assert [(x["number"], x["person"], x["unit"], x["open"]) for x in late] == [
        (3, "Trần Văn Cường", U1, False),
        (3, d.step_plan.steps[2].actor if d.step_plan else "", U1, True)]
    assert "17:00" in late[0]["due"] and "06/03/2026" in late[0]["due"]
    assert "16:00" in late[1]["due"] and "11/03/2026" in late[1]["due"]
    runs = panel["step_runs"]
    assert [r["verdict"] for r in runs] == ["Đúng hạn", "Đúng hạn", "Trước hạn", "Đúng hạn",
                                            "Quá hạn", "Đúng hạn", ""]
    assert all(r["due"] for r in runs)
    assert runs[4]["person"] == "Trần Văn Cường"
    # Before the open step's due time, only the run that ended late is named.
    monkeypatch.setattr(page, "now", lambda: at("2026-03-11", "15:00"))
    assert len(page.steps_panel(d, load_catalog(), cal.tz)["late"]) == 1
