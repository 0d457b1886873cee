"""Citizen documents rendered from a dossier's events: content, escaping and availability."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from domain import commands as cmd
from domain import events as ev
from domain.catalog import Catalog
from domain.decide import decide
from domain.dossier import Dossier, fold
from domain.envelope import EventEnvelope
from domain.states import Channel
from motcua.catalog.source import load_catalog
from motcua.documents import KINDS, DocumentUnavailable, UnknownDocument, render
from motcua.documents.render import Lookup
from motcua.documents.timefmt import vn_date, vn_time

VN = timezone(timedelta(hours=7))
CODE = "000.21.39.H39-250408-0001"
UNIT = "000.21.39.H39"
PROCEDURE = "1.004873"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in April 2025, Vietnam time."""
    return datetime(2025, 4, day, hour, minute, tzinfo=VN)


class Story:
    """Drives the pure domain like the workflow does and keeps the events as stored rows."""

    def __init__(self) -> None:
        self.state = Dossier()
        self.stored: list[EventEnvelope] = []

    def do(self, command: cmd.Command, now: datetime, due: datetime | None = None,
           reason: str = "receipt") -> Story:
        """Decide `command` at `now`; with `due`, record the deadline it causes, as one batch."""
        events = decide(self.state, command, now)
        if due is not None:
            events += decide(fold(events, self.state), cmd.SetDeadline(
                due_at=due, due_soon_at=due - timedelta(days=1), reason=reason,
                rule="civil_code", amount=2, unit="working_days", calendar_version="cal-1",
                catalog_version="cat-1"), now)
        metadata = {"actor": command.actor, "causation": f"update:{uuid.uuid4()}",
                    "command": type(command).__name__}
        for event in events:
            position = len(self.stored) + 1
            payload = json.loads(json.dumps(ev.to_payload(event), ensure_ascii=False))
            self.stored.append(EventEnvelope(
                global_position=1000 + position, stream=CODE, position=position,
                event_id=str(uuid.uuid4()), event_type=event.event_type,
                schema_version=event.schema_version, payload=payload, metadata=metadata,
                recorded_at=event.at))
        self.state = fold(events, self.state)
        return self


def received(name: str = "Nguyễn Văn An") -> Story:
    """A dossier received on 8 April 2025 at 08:30, due 10 April 17:00."""
    return Story().do(cmd.ReceiveDossier(
        code=CODE, unit_code=UNIT, procedure_code=PROCEDURE, channel=Channel.COUNTER,
        applicant_name=name, applicant_address="Số 5 đường Hoàng Liên, phường Lào Cai",
        applicant_phone="0912345678", documents=("Tờ khai", "Bản sao CCCD"),
        actor="clerk-1"), at(8, 8, 30), due=at(10, 17))


def with_supplement() -> Story:
    """Assigned, processed, one supplement (due moved to 15 April), ready and returned."""
    return (received()
            .do(cmd.AssignOfficer(officer="officer-1", actor="leader-1"), at(8, 9))
            .do(cmd.StartProcessing(actor="officer-1"), at(8, 10))
            .do(cmd.RequestSupplement(reason="Thiếu giấy xác nhận cư trú",
                                      documents=("Giấy xác nhận cư trú",),
                                      actor="officer-1"), at(9, 14))
            .do(cmd.ProvideSupplement(actor="clerk-1"), at(14, 8), due=at(15, 17),
                reason="supplement_received")
            .do(cmd.CompleteProcessing(summary="Đã cấp giấy", actor="officer-1"), at(15, 10))
            .do(cmd.ReturnResult(actor="clerk-1"), at(16, 9)))


class _Rows(HTMLParser):
    """Collects the text of each table body row's cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_body = self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1][-1] += data


def table(html: str) -> list[list[str]]:
    """The process-control slip's rows as lists of cell texts."""
    parser = _Rows()
    parser.feed(html)
    return parser.rows


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The shipped catalog."""
    return load_catalog()


def test_vietnamese_time_format() -> None:
    """Instants print in Vietnam time with the administrative zero-padding of days and months."""
    assert vn_time(datetime(2025, 4, 12, 1, 30, tzinfo=UTC)) == (
        "08 giờ 30 phút, ngày 12 tháng 4 năm 2025")
    assert vn_date(datetime(2026, 1, 5, 20, 0, tzinfo=UTC)) == "ngày 06 tháng 01 năm 2026"
    with pytest.raises(ValueError, match="naive"):
        vn_time(datetime(2025, 4, 12, 8, 30))  # noqa: DTZ001


def test_receipt_shows_code_procedure_and_appointment(catalog: Catalog) -> None:
    """The receipt prints the dossier code, applicant, procedure, documents and the due time."""
    html = render("receipt", with_supplement().stored, catalog)
    assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" in html
    assert CODE in html
    assert catalog.procedure(PROCEDURE).name in html
    assert catalog.unit(UNIT).name in html
    assert "Nguyễn Văn An" in html and "0912345678" in html
    assert "<td>Bản sao CCCD</td>" in html  # form 01's paper table (issue 23 item 15)
    assert "02 ngày làm việc" in html
    assert "Thời gian nhận hồ sơ: 08 giờ 30 phút, ngày 08 tháng 4 năm 2025" in html
    # Form 01: where the result is collected, and the register entry (book = the unit's day).
    assert "Đăng ký nhận kết quả tại: Bộ phận tiếp nhận và trả kết quả" in html
    assert "Vào Sổ theo dõi hồ sơ, Quyển số: 000.21.39.H39-250408, Số thứ tự: 1" in html
    # The appointment given at receipt, not the one moved by the supplement.
    assert "17 giờ 00 phút, ngày 10 tháng 4 năm 2025" in html
    assert "ngày 15 tháng 4" not in html


def test_supplement_request(catalog: Catalog) -> None:
    """The supplement request names the missing papers, the reason and the officer."""
    html = render("supplement-request", with_supplement().stored, catalog)
    assert "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ" in html
    assert "Thiếu giấy xác nhận cư trú" in html
    assert "<li>Giấy xác nhận cư trú</li>" in html
    assert "14 giờ 00 phút, ngày 09 tháng 4 năm 2025" in html
    assert "officer-1" in html


def test_refusal_escapes_user_text(catalog: Catalog) -> None:
    """The refusal slip carries the reason, and names typed by people are HTML-escaped."""
    story = received("<script>alert(1)</script>").do(
        cmd.RefuseDossier(reason="Không thuộc thẩm quyền & <b>sai</b>", actor="clerk-1"),
        at(8, 9))
    html = render("refusal", story.stored, catalog)
    # Refused after acceptance: the unit's notice, not form 03 (issue 23 item 6).
    assert "Thông báo từ chối giải quyết hồ sơ" in html
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Không thuộc thẩm quyền &amp; &lt;b&gt;sai&lt;/b&gt;" in html


def test_apology_shows_old_and_new_appointment(catalog: Catalog) -> None:
    """The apology prints the reason, the broken appointment and the new one."""
    story = (received()
             .do(cmd.AssignOfficer(officer="officer-1", actor="leader-1"), at(8, 9))
             .do(cmd.ExtendDeadline(reason="Cần xác minh tại nơi cư trú trước đây",
                                    new_due_at=at(14, 17), actor="leader-1"),
                 at(9, 10), due=at(14, 17), reason="extension"))
    html = render("apology", story.stored, catalog)
    assert "Phiếu xin lỗi và hẹn lại ngày trả kết quả" in html
    assert "Cần xác minh tại nơi cư trú trước đây" in html
    assert "Thời gian hẹn trả kết quả giải quyết hồ sơ: 17 giờ 00 phút, ngày 10 tháng 4" in html
    assert "17 giờ 00 phút, ngày 14 tháng 4 năm 2025" in html
    assert "Ngày 08 tháng 4 năm 2025, " in html


def test_process_control_rows_and_verdicts(catalog: Catalog) -> None:
    """One row per hand-off; the supplement's return is judged against the recomputed due."""
    html = render("process-control", with_supplement().stored, catalog)
    assert "Phiếu kiểm soát quá trình giải quyết hồ sơ" in html and CODE in html
    rows = table(html)
    assert [(r[1], r[2], r[3], r[5]) for r in rows] == [
        ("Tiếp nhận hồ sơ", "Ông/Bà Nguyễn Văn An", "clerk-1", "Trước hạn"),
        ("Phân công xử lý", "clerk-1", "officer-1", "Trước hạn"),
        ("Bắt đầu giải quyết", "officer-1", "officer-1", "Trước hạn"),
        ("Yêu cầu bổ sung, hoàn thiện hồ sơ", "officer-1", "Ông/Bà Nguyễn Văn An", "Trước hạn"),
        ("Nhận hồ sơ bổ sung", "Ông/Bà Nguyễn Văn An", "clerk-1", "Trước hạn"),
        ("Có kết quả giải quyết", "officer-1", "clerk-1", "Đúng hạn"),
        ("Trả kết quả", "clerk-1", "Ông/Bà Nguyễn Văn An", "Đúng hạn"),
    ]
    assert rows[0][4] == "08 giờ 30 phút, ngày 08 tháng 4 năm 2025"
    assert "Phân công: leader-1" in rows[1][6]


def test_process_control_hand_over_cells(catalog: Catalog) -> None:
    """Issue 11 point 9: each step's "Người giao" and "Người nhận" cells name the people from
    the events' actors (clerk to assignee at assignment, officer to the clerk at the desk at
    completion, clerk to citizen at return), beside the time and the verdict."""
    story = (Story().do(cmd.ReceiveDossier(
        code=CODE, unit_code=UNIT, procedure_code=PROCEDURE, channel=Channel.COUNTER,
        applicant_name="Vàng Thị Dợ", actor="Lê Thị Thu"), at(8, 8, 30), due=at(10, 17))
        .do(cmd.AssignOfficer(officer="Hoàng Văn Nam", actor="Phạm Văn Đức"), at(8, 9))
        .do(cmd.StartProcessing(actor="Hoàng Văn Nam"), at(8, 10))
        .do(cmd.CompleteProcessing(summary="Đã cấp", actor="Hoàng Văn Nam"), at(9, 15))
        .do(cmd.ReturnResult(actor="Đỗ Thị Hoa"), at(10, 9)))
    html = render("process-control", story.stored, catalog)
    assert "<th>Người giao</th><th>Người nhận</th>" in html
    assert "Bên giao" not in html
    cells = [(r[1], r[2], r[3], r[4], r[5]) for r in table(html)]
    assert cells == [
        ("Tiếp nhận hồ sơ", "Ông/Bà Vàng Thị Dợ", "Lê Thị Thu",
         "08 giờ 30 phút, ngày 08 tháng 4 năm 2025", "Trước hạn"),
        ("Phân công xử lý", "Lê Thị Thu", "Hoàng Văn Nam",
         "09 giờ 00 phút, ngày 08 tháng 4 năm 2025", "Trước hạn"),
        ("Bắt đầu giải quyết", "Hoàng Văn Nam", "Hoàng Văn Nam",
         "10 giờ 00 phút, ngày 08 tháng 4 năm 2025", "Trước hạn"),
        ("Có kết quả giải quyết", "Hoàng Văn Nam", "Đỗ Thị Hoa",
         "15 giờ 00 phút, ngày 09 tháng 4 năm 2025", "Trước hạn"),
        ("Trả kết quả", "Đỗ Thị Hoa", "Ông/Bà Vàng Thị Dợ",
         "09 giờ 00 phút, ngày 10 tháng 4 năm 2025", "Trước hạn"),  # the result's verdict
    ]
    assert '<td class="giver">Lê Thị Thu</td>' in html
    assert '<td class="receiver">Hoàng Văn Nam</td>' in html
    # Before the result is returned, the desk itself receives it.
    ready = story.stored[:-1]
    while ready[-1].event_type != "ResultReady":
        ready = ready[:-1]
    last = table(render("process-control", ready, catalog))[-1]
    assert (last[2], last[3]) == ("Hoàng Văn Nam", "Bộ phận tiếp nhận và trả kết quả")


def test_process_control_late_steps(catalog: Catalog) -> None:
    """Steps after the due time in force, and a late result, print "Quá hạn"."""
    story = (received()
             .do(cmd.AssignOfficer(officer="officer-1", actor="leader-1"), at(10, 9))
             .do(cmd.StartProcessing(actor="officer-1"), at(11, 8))
             .do(cmd.CompleteProcessing(summary="Xong", actor="officer-1"), at(11, 16)))
    verdicts = [r[5] for r in table(render("process-control", story.stored, catalog))]
    assert verdicts == ["Trước hạn", "Đúng hạn", "Quá hạn", "Quá hạn"]


def test_second_supplement_request_makes_result_late(catalog: Catalog) -> None:
    """Decision 766: a second request during processing makes the result row late, on time."""
    story = (received()
             .do(cmd.AssignOfficer(officer="officer-1", actor="leader-1"), at(8, 9))
             .do(cmd.StartProcessing(actor="officer-1"), at(8, 10)))
    for day in (8, 9):
        story.do(cmd.RequestSupplement(reason="Thiếu giấy", actor="officer-1"), at(day, 11))
        story.do(cmd.ProvideSupplement(actor="clerk-1"), at(day, 14), due=at(10, 17),
                 reason="supplement_received")
    story.do(cmd.CompleteProcessing(summary="Xong", actor="officer-1"), at(9, 16))
    rows = table(render("process-control", story.stored, catalog))
    assert "tính là quá hạn" in rows[5][6]
    assert (rows[-1][1], rows[-1][5]) == ("Có kết quả giải quyết", "Quá hạn")


@pytest.mark.parametrize(("kind", "reason"), [
    ("refusal", "not refused"),
    ("apology", "never extended"),
    ("stop-notice", "not stopped"),
])
def test_unavailable_without_the_event(catalog: Catalog, kind: str, reason: str) -> None:
    """A document whose event never happened is unavailable, with the kind and a reason."""
    with pytest.raises(DocumentUnavailable, match=reason) as caught:
        render(kind, with_supplement().stored, catalog)
    assert caught.value.kind == kind


def test_unavailable_cases(catalog: Catalog) -> None:
    """No events, no supplement request, or no deadline: those documents are unavailable."""
    for kind in KINDS:
        with pytest.raises(DocumentUnavailable):
            render(kind, [], catalog)
    with pytest.raises(DocumentUnavailable, match="no supplement"):
        render("supplement-request", received().stored, catalog)
    with pytest.raises(DocumentUnavailable, match="no deadline"):
        render("receipt", received().stored[:1], catalog)


def test_unknown_kind(catalog: Catalog) -> None:
    """An unknown kind raises UnknownDocument; KINDS lists the six documents."""
    with pytest.raises(UnknownDocument):
        render("invoice", received().stored, catalog)
    assert set(KINDS) == {"receipt", "supplement-request", "refusal", "apology",
                          "process-control", "stop-notice"}


def test_receipt_names_the_counting_rule_and_its_texts(catalog: Catalog) -> None:
    """The receipt says how the appointment was counted and which texts that follows; a
    deadline stored before the Nov 2026 correction (no rule version) says it was rule v1."""
    legacy = render("receipt", received().stored, catalog)
    # In words, never the identifier (issue 23 item 5).
    assert "civil_code" not in legacy and "@v1" not in legacy
    assert "motcua quy tắc v1" not in legacy
    assert "Cách tính thời hạn: hạn đã hẹn theo cách tính trước khi đính chính" in legacy
    story = Story().do(cmd.ReceiveDossier(
        code=CODE, unit_code=UNIT, procedure_code=PROCEDURE, channel=Channel.COUNTER,
        applicant_name="Nguyễn Văn An", actor="clerk-1"), at(8, 8, 30))
    events = decide(story.state, cmd.SetDeadline(
        due_at=at(10, 17), due_soon_at=at(9, 17), reason="receipt", rule="civil_code",
        amount=2, unit="working_days", calendar_version="cal-1", catalog_version="cat-1",
        rule_version=2, rule_source="Bộ luật Dân sự 2015 Điều 147 khoản 2"), at(8, 8, 30))
    assert isinstance(events[0], ev.DeadlineSet) and events[0].rule_version == 2
    story.state = fold(events, story.state)
    story.stored.append(EventEnvelope(
        global_position=2000, stream=CODE, position=len(story.stored) + 1,
        event_id=str(uuid.uuid4()), event_type=events[0].event_type,
        schema_version=events[0].schema_version,
        payload=json.loads(json.dumps(ev.to_payload(events[0]), ensure_ascii=False)),
        metadata={"actor": "clerk-1"}, recorded_at=events[0].at))
    html = render("receipt", story.stored, catalog)
    assert ("Cách tính thời hạn: tính từ ngày làm việc kế tiếp ngày tiếp nhận, đủ 02 ngày "
            "làm việc") in html
    assert "civil_code" not in html and "working_days" not in html
    assert "Bộ luật Dân sự 2015 Điều 147 khoản 2" in html
    assert story.state.counting_rule == ("civil_code/working_days@v2",
                                         "Bộ luật Dân sự 2015 Điều 147 khoản 2")


def test_withdrawal_goes_through_code_7_to_the_stop_notice(catalog: Catalog) -> None:
    """Circular 03/2025 art. 7: the citizen's withdrawal (code 7) is followed by the stop
    notice (code 8), which is printable; the withdrawal is judged by its date (Decision 766;
    10 Apr is the due date, so on time) and the process-control slip agrees."""
    story = received().do(cmd.WithdrawDossier(reason="Xin rút để bổ sung sau",
                                              stop_notice=True, actor="leader-1"), at(10, 9))
    types = [e.event_type for e in story.stored]
    assert types[-2:] == ["DossierWithdrawn", "ProcessingStopped"]
    assert story.state.state is not None and story.state.state.status_code == 8
    html = render("stop-notice", story.stored, catalog)
    assert "Thông báo dừng giải quyết hồ sơ" in html
    assert "đề nghị rút hồ sơ" in html and "Xin rút để bổ sung sau" in html
    assert "Điều 7 Thông tư 03/2025/TT-VPCP" in html
    slip = table(render("process-control", story.stored, catalog))
    withdrawn = next(r for r in slip if r[1] == "Rút hồ sơ theo đề nghị")
    assert withdrawn[5] == "Đúng hạn"
    late = received().do(cmd.WithdrawDossier(reason="rút", actor="leader-1"), at(11, 9))
    assert late.state.timeliness is not None and late.state.timeliness.value == "late"


def test_receipt_shows_the_fees_paid_at_the_counter(catalog: Catalog) -> None:
    """A fee recorded at the counter (issue 22 item 4) is printed on the receipt with its
    receipt number; a dossier without one prints no fee line."""
    assert "Phí, lệ phí" not in render("receipt", received().stored, catalog)
    story = received().do(cmd.RecordFee(amount=1_500_000, reference="BL-0042",
                                        actor="clerk-1"), at(8, 9))
    html = render("receipt", story.stored, catalog)
    assert "Phí, lệ phí đã nộp: 1.500.000 đồng (biên lai số BL-0042)" in html


def test_receipt_calls_the_secret_as_the_lookup_page_does(catalog: Catalog) -> None:
    """One word for the lookup secret: the receipt says "mã tra cứu", as the citizen's lookup
    page labels its field (issue 23 item 15), with the secret printed and without it."""
    lookup = Lookup(secret="3KTZ-NQWG-FMTP", url="https://example.vn/tra-cuu")
    for html in (render("receipt", received().stored, catalog, lookup=lookup),
                 render("receipt", received().stored, catalog)):
        assert "mã tra cứu" in html and "mã bí mật" not in html
