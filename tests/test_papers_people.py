"""Issue 23 items 5 and 6: papers say things in Vietnamese sentences and name people by full
name, each paper signed by the right person, each refusal on its own paper."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from domain import commands as cmd
from domain.catalog import Catalog
from motcua.catalog.source import load_catalog
from motcua.documents import render
from motcua.documents.narration import describe
from motcua.documents.people import Person, logins
from motcua.documents.timefmt import rule_sentence
from tests.test_documents import CODE, PROCEDURE, UNIT, Story, at, received

PEOPLE = {
    "clerk-1": Person("Trần Thị Lan", frozenset({"clerk"})),
    "officer-1": Person("Lê Văn Minh", frozenset({"officer"})),
    "leader-1": Person("Nguyễn Quốc Bảo", frozenset({"leader"})),
}
IDENTIFIER = re.compile(r"\b(civil_code|same_time_of_day|working_days|calendar_days|"
                        r"working_hours|same_day|months)\b|@v\d")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _signature(html: str, block: str) -> str:
    """The name printed under the signature block titled `block` ('' if blank)."""
    found = re.search(rf'<div class="bold">{block}</div>.*?<div class="name[^"]*">([^<]*)</div>',
                      html, re.S)
    assert found, (block, html[-1500:])
    return found[1].strip()


def test_every_rule_reads_as_a_sentence() -> None:
    """Each rule and unit the catalog can hold reads as Vietnamese words, with no identifier;
    no rule (an online submission not accepted yet) reads as nothing, not '()'."""
    for rule in ("civil_code", "same_time_of_day"):
        for unit in ("working_days", "calendar_days", "months", "working_hours", "same_day"):
            for version in (1, 2, 3):
                text = rule_sentence(rule, unit, 7, version)
                assert text and not IDENTIFIER.search(text), (rule, unit, text)
    assert "07 ngày làm việc" in rule_sentence("civil_code", "working_days", 7, 2)
    assert rule_sentence("", "", 0, 2) == ""


def test_receipt_is_signed_by_the_clerks_full_name(catalog: Catalog) -> None:
    """Form 01: "NGƯỜI TIẾP NHẬN HỒ SƠ" over the clerk's full name, never the login."""
    html = render("receipt", received().stored, catalog, people=PEOPLE)
    assert _signature(html, "NGƯỜI TIẾP NHẬN HỒ SƠ") == "Trần Thị Lan"
    assert "clerk-1" not in html


def test_apology_is_signed_by_the_leader(catalog: Catalog) -> None:
    """The apology: "THỦ TRƯỞNG CƠ QUAN" over the leader's full name."""
    story = (received()
             .do(cmd.AssignOfficer(officer="officer-1", actor="leader-1"), at(8, 9))
             .do(cmd.ExtendDeadline(reason="Cần xác minh", new_due_at=at(14, 17),
                                    actor="leader-1"), at(9, 10), due=at(14, 17),
                 reason="extension"))
    html = render("apology", story.stored, catalog, people=PEOPLE)
    assert _signature(html, "THỦ TRƯỞNG CƠ QUAN") == "Nguyễn Quốc Bảo"
    assert "leader-1" not in html and "NGƯỜI LẬP" not in html


def test_stop_notice_recorded_by_a_clerk_leaves_the_head_to_sign(catalog: Catalog) -> None:
    """A withdrawal taken at the counter by the clerk: the clerk is "Người lập", never under
    "THỦ TRƯỞNG CƠ QUAN", whose name is left for the head to sign."""
    story = received().do(cmd.WithdrawDossier(reason="Xin rút", stop_notice=True,
                                              actor="clerk-1"), at(9, 9))
    html = render("stop-notice", story.stored, catalog, people=PEOPLE)
    assert _signature(html, "THỦ TRƯỞNG CƠ QUAN") == ""
    assert _signature(html, "NGƯỜI LẬP") == "Trần Thị Lan"
    assert "Công chức tiếp nhận và trả kết quả" in html
    by_leader = received().do(cmd.WithdrawDossier(reason="Xin rút", stop_notice=True,
                                                  actor="leader-1"), at(9, 9))
    html = render("stop-notice", by_leader.stored, catalog, people=PEOPLE)
    assert _signature(html, "THỦ TRƯỞNG CƠ QUAN") == "Nguyễn Quốc Bảo"


def test_each_refusal_has_its_own_paper(catalog: Catalog) -> None:
    """Refused during processing: the unit's notice signed by the head (the leader), never
    form 03 with the leader as "NGƯỜI TIẾP NHẬN HỒ SƠ"; refused at intake (an online
    submission): form 03 signed by the receiving clerk."""
    story = (received()
             .do(cmd.AssignOfficer(officer="officer-1", actor="leader-1"), at(8, 9))
             .do(cmd.RefuseDossier(reason="Không đủ điều kiện", actor="leader-1"), at(9, 9)))
    html = render("refusal", story.stored, catalog, people=PEOPLE)
    assert "Thông báo từ chối giải quyết hồ sơ" in html
    assert "Phiếu từ chối tiếp nhận" not in html and "NGƯỜI TIẾP NHẬN HỒ SƠ" not in html
    assert _signature(html, "THỦ TRƯỞNG CƠ QUAN") == "Nguyễn Quốc Bảo"
    online = Story().do(cmd.SubmitOnline(
        code=CODE, unit_code=UNIT, procedure_code=PROCEDURE,
        applicant_name="Nguyễn Văn An", actor="portal"), at(8, 8)).do(
        cmd.RefuseAtIntake(reason="Sai thẩm quyền", actor="clerk-1"), at(8, 10))
    html = render("refusal", online.stored, catalog, people=PEOPLE)
    assert "Phiếu từ chối tiếp nhận giải quyết hồ sơ" in html
    assert _signature(html, "NGƯỜI TIẾP NHẬN HỒ SƠ") == "Trần Thị Lan"


def test_slip_and_timeline_name_people_in_full(catalog: Catalog) -> None:
    """The process-control slip's hand-over cells and the timeline's "Phân công cho …"."""
    story = (received()
             .do(cmd.AssignOfficer(officer="officer-1", actor="leader-1"), at(8, 9))
             .do(cmd.StartProcessing(actor="officer-1"), at(8, 10)))
    html = render("process-control", story.stored, catalog, people=PEOPLE)
    for login in PEOPLE:
        assert login not in html
    assert "Lê Văn Minh" in html and "Phân công: Nguyễn Quốc Bảo" in html
    assigned = next(e for e in story.stored if e.event_type == "OfficerAssigned")
    assert logins(story.stored) == set(PEOPLE)
    line = describe(assigned.event, ZoneInfo("Asia/Ho_Chi_Minh"), PEOPLE).line
    assert line == "Phân công cho Lê Văn Minh"
