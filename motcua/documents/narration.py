"""`describe(event)`: what one event means, in Vietnamese, for every screen and paper.

The console's timeline (`motcua.console.dossier`) and the process-control slip
(`motcua.documents.control`) both tell a dossier's story from here, so an event is worded in
one place: a new event type gets its telling in `describe`, and a test fails until it does
(`tests/test_documents.py`).

A telling separates what anyone who may see the dossier may read (`line`, `step`) from the free
text and personal data (`details`: reasons, notes, the applicant's name, the papers), which a
screen shows only to a reader allowed to see personal data; the slip is itself a document with
personal data and prints its details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from domain import events as ev
from domain.states import AlertKind, Satisfaction
from motcua.documents.people import People, name_of
from motcua.documents.timefmt import CHANNEL_LABELS, vn_time

SATISFACTION_LABELS: dict[str, str] = {
    Satisfaction.VERY_SATISFIED: "Rất hài lòng",
    Satisfaction.SATISFIED: "Hài lòng",
    Satisfaction.NOT_SATISFIED: "Không hài lòng",
}
ALERT_LABELS: dict[str, str] = {
    AlertKind.DUE_SOON: "Cảnh báo sắp đến hạn",
    AlertKind.OVERDUE: "Cảnh báo quá hạn",
    AlertKind.OVERDUE_WITHOUT_APOLOGY: "Quá hạn mà chưa có văn bản xin lỗi",
}
# Why a deadline was (re)set (`domain.deadlines.DEADLINE_REASONS`), as a clause.
REASON_LABELS: dict[str, str] = {
    "receipt": "khi tiếp nhận", "supplement_received": "sau khi nhận bổ sung",
    "extension": "gia hạn", "calendar_correction": "điều chỉnh lịch làm việc",
    "verification": "cần xác minh",
    "payment_received": "sau khi nhận chứng từ thực hiện nghĩa vụ tài chính",
}

# Events told by their step, a sentence and the reason given (step, line).
_WITH_A_REASON: dict[type[ev.Event], tuple[str, str]] = {
    ev.SubmissionRefused: ("Từ chối tiếp nhận hồ sơ", "Từ chối tiếp nhận"),
    ev.DossierRefused: ("Từ chối giải quyết hồ sơ", "Từ chối giải quyết"),
    ev.DossierWithdrawn: ("Rút hồ sơ theo đề nghị", "Công dân rút hồ sơ"),
    ev.ProcessingStopped: ("Dừng giải quyết hồ sơ", "Dừng xử lý"),
    ev.VerificationRequired: ("Cần xác minh", "Cần xác minh: áp dụng thời hạn tối đa của thủ tục"),
}


@dataclass(frozen=True)
class Detail:
    """A labelled piece of free text or personal data, e.g. ("lý do", "Thiếu giấy khai sinh").
    `printed`: the slip's note column carries it (the slip names the applicant in its own
    cells and does not list the papers)."""

    label: str
    value: str
    printed: bool = True


@dataclass(frozen=True, kw_only=True)
class Telling:
    """One event told: the step's name, a sentence without personal data, the details, and
    what the step implies (`remarks`, printed on the slip)."""

    step: str
    line: str
    details: tuple[Detail, ...] = ()
    remarks: tuple[str, ...] = ()

    def sentence(self, private: bool) -> str:
        """The timeline's sentence; with the details only when `private`."""
        if not private:
            return self.line
        return self.line + "".join(f" — {d.label}: {d.value}" for d in self.details)

    def note(self) -> str:
        """The slip's note: the printed details ("Lý do: …"), then the remarks."""
        parts = [f"{d.label}: {d.value}" for d in self.details if d.printed]
        text = "; ".join([*parts, *self.remarks])
        return text[:1].upper() + text[1:]


def _details(*pairs: tuple[str, str | None] | Detail) -> tuple[Detail, ...]:
    """The given details, leaving out empty values."""
    out = []
    for pair in pairs:
        if isinstance(pair, tuple):
            label, value = pair
            pair = Detail(label, value or "")
        if pair.value:
            out.append(pair)
    return tuple(out)


def _papers(documents: tuple[str, ...]) -> Detail:
    return Detail("giấy tờ", "; ".join(documents), printed=False)


def _applicant(name: str) -> Detail:
    return Detail("người nộp", name, printed=False)


def describe(event: ev.Event, tz: tzinfo, people: People | None = None) -> Telling:
    """`event` told in Vietnamese; instants in the office time zone `tz`; staff named by full
    name from `people` (`motcua.documents.people.people_of`; a login no user has stays)."""
    known = people or {}
    match event:
        case ev.DossierReceived() as e:
            how = f"Hình thức nộp: {CHANNEL_LABELS[e.channel]}"
            line = "Tiếp nhận hồ sơ"
            if e.original_received_at is not None and e.backdate_reason is not None:
                # Entered after the fact (issue 23 item 15): when it was really received.
                line += (f" (nhận thực tế lúc {vn_time(e.original_received_at, tz)}, "
                         "nhập vào hệ thống sau)")
            elif e.original_received_at is not None:
                how += " (nhận từ hệ thống cũ)"
            return Telling(step="Tiếp nhận hồ sơ", line=line,
                           details=_details(_applicant(e.applicant_name), _papers(e.documents),
                                            ("lý do nhập lùi", e.backdate_reason)),
                           remarks=(how,))
        case ev.DossierSubmitted() as e:
            return Telling(step="Nộp hồ sơ trực tuyến", line="Nộp hồ sơ trực tuyến (chờ tiếp nhận)",
                           details=_details(_applicant(e.applicant_name), _papers(e.documents)),
                           remarks=(f"Hình thức nộp: {CHANNEL_LABELS[e.channel]}",
                                    "chờ tiếp nhận"))
        case ev.IntakeSupplementRequested() as e:
            return Telling(step="Yêu cầu bổ sung trước khi tiếp nhận",
                           line="Yêu cầu bổ sung trước khi tiếp nhận",
                           details=_details(("lý do", e.reason), _papers(e.documents)),
                           remarks=("thời hạn tính lại từ khi nhận đủ hồ sơ",))
        case ev.IntakeSupplementReceived() as e:
            return Telling(step="Nhận hồ sơ bổ sung (trước khi tiếp nhận)",
                           line="Đã nhận bổ sung: thời hạn tính lại từ thời điểm này",
                           details=_details(_papers(e.documents), ("ghi chú", e.note)))
        case ev.SubmissionAccepted() as e:
            counted = vn_time(e.counted_from, tz)
            return Telling(step="Tiếp nhận hồ sơ",
                           line=f"Tiếp nhận hồ sơ trực tuyến: thời hạn tính từ {counted}",
                           details=_details(("ghi chú", e.note)),
                           remarks=("hồ sơ trực tuyến", f"thời hạn tính từ {counted}"))
        case ev.DeadlineSet() as e:
            why = REASON_LABELS.get(e.reason, e.reason)
            return Telling(step="Hạn xử lý", line=(f"Hạn xử lý (phiên bản {e.version}, {why}): "
                                                   f"{vn_time(e.due_at, tz)}"))
        case ev.OfficerAssigned() as e:
            return Telling(step="Phân công xử lý",
                           line=f"Phân công cho {name_of(known, e.officer)}",
                           details=_details(("ghi chú", e.note)))
        case ev.ProcessingStarted() as e:
            return Telling(step="Bắt đầu giải quyết",
                           line=f"{name_of(known, e.officer)} bắt đầu xử lý")
        case ev.SupplementRequested() as e:
            late = (" (lần thứ hai: tính là trễ hạn)" if e.counts_as_late else "")
            return Telling(step="Yêu cầu bổ sung, hoàn thiện hồ sơ",
                           line="Yêu cầu bổ sung hồ sơ" + late,
                           details=_details(("lý do", e.reason), _papers(e.documents)),
                           remarks=("yêu cầu bổ sung lần thứ hai trong quá trình giải quyết: "
                                    "hồ sơ được tính là quá hạn",) if e.counts_as_late else ())
        case ev.SupplementReceived() as e:
            return Telling(step="Nhận hồ sơ bổ sung", line="Đã nhận hồ sơ bổ sung",
                           details=_details(_papers(e.documents), ("ghi chú", e.note)))
        case ev.ResultReady() as e:
            return Telling(step="Có kết quả giải quyết", line="Đã có kết quả",
                           details=_details(("kết quả", e.summary)))
        case ev.ResultReturned() as e:
            return Telling(step="Trả kết quả", line="Đã trả kết quả cho công dân",
                           details=_details(("ghi chú", e.note)))
        case ev.SubmissionRefused() | ev.DossierRefused() | ev.DossierWithdrawn() \
                | ev.ProcessingStopped() | ev.VerificationRequired() as e:
            step, line = _WITH_A_REASON[type(e)]
            return Telling(step=step, line=line, details=_details(("lý do", e.reason)))
        case ev.DeadlineExtended() as e:
            new_due = vn_time(e.new_due_at, tz)
            sent_late = () if e.in_time else ("văn bản xin lỗi gửi sau thời hạn phải gửi",)
            return Telling(step="Xin lỗi và hẹn lại ngày trả kết quả",
                           line=f"Gia hạn, có văn bản xin lỗi: hẹn mới {new_due}",
                           details=_details(("lý do", e.reason)),
                           remarks=(f"hẹn lại: {new_due}", *sent_late))
        case ev.ServiceRated() as e:
            return Telling(step="Đánh giá sự hài lòng",
                           line=f"Công dân đánh giá: {SATISFACTION_LABELS[e.satisfaction]}",
                           details=_details(("ý kiến", e.comment)))
        case ev.ComplaintRecorded() as e:
            return Telling(step="Ghi nhận phản ánh, kiến nghị",
                           line="Ghi nhận phản ánh, kiến nghị",
                           details=_details(("người phản ánh", e.complainant),
                                            ("nội dung", e.text), ("kết quả xử lý", e.outcome)))
        case ev.DeadlineAlertRaised() as e:
            label = ALERT_LABELS[e.kind]
            return Telling(step=label, line=label)
        case ev.NotificationSent() as e:
            what = ALERT_LABELS.get(e.kind, e.kind)
            return Telling(step="Đã gửi thông báo",
                           line=f"Đã gửi thông báo: {what} (lần thử {e.attempts})")
        case ev.NotificationFailed() as e:
            what = ALERT_LABELS.get(e.kind, e.kind)
            return Telling(step="Gửi thông báo không thành công",
                           line=f"Gửi thông báo không thành công: {what}",
                           details=_details(("lỗi", e.error)))
        case ev.NoticeDelivered() as e:
            what = NOTICE_LABELS.get(e.kind, e.kind)
            how = NOTICE_CHANNEL_LABELS.get(e.channel, e.channel)
            return Telling(step="Thông báo đến công dân",
                           line=f"Đã gửi thông báo {what} đến công dân qua {how} lúc "
                           f"{vn_time(e.delivered_at, tz)}",
                           remarks=("thư xin lỗi đã đến công dân",) if e.kind == "extension"
                           else ())
        case ev.FileAttached() as e if e.purpose == "result":
            return Telling(step="Ban hành kết quả điện tử", line="Ban hành kết quả điện tử có "
                           "chữ ký số", details=_details(("tệp", e.name)))
        case ev.FileAttached() as e:
            how = "Tái sử dụng" if e.reused else "Số hóa"
            return Telling(step=f"{how} thành phần hồ sơ",
                           line=f"{how} thành phần hồ sơ ({e.pages} trang)",
                           details=_details(("thành phần", e.name)))
        # Internal procedures (issue 22): the step numbers people read are 1-based.
        case ev.StepsBegun() as e:
            return Telling(step="Bắt đầu quy trình nội bộ",
                           line=f"Áp dụng quy trình nội bộ ({len(e.steps)} bước)",
                           details=_details(("quy trình", e.version)))
        case ev.StepHandedOver() as e if e.to_step is None:
            return Telling(step=f"Hoàn thành bước {e.from_step + 1}",
                           line=f"Hoàn thành bước {e.from_step + 1}, kết thúc quy trình nội bộ",
                           details=_details(("ghi chú", e.note)))
        case ev.StepHandedOver() as e:
            to = f" cho {e.receiver}" if e.receiver else ""
            return Telling(step=f"Chuyển bước {e.from_step + 1} → bước {(e.to_step or 0) + 1}",
                           line=f"Bàn giao từ bước {e.from_step + 1} sang bước "
                           f"{(e.to_step or 0) + 1}{to}", details=_details(("ghi chú", e.note)))
        case ev.StepSentBack() as e:
            return Telling(step=f"Trả lại bước {e.to_step + 1}",
                           line=f"Lãnh đạo trả lại từ bước {e.from_step + 1} về bước "
                           f"{e.to_step + 1}", details=_details(("lý do", e.reason)))
        case ev.StepDueSet() as e:
            due = vn_time(e.due_at, tz) if e.due_at else "không tính thời gian"
            return Telling(step=f"Hạn bước {e.step + 1}",
                           line=f"Hạn xử lý bước {e.step + 1}: {due}")
        case ev.StepAlertRaised() as e:
            label = f"{ALERT_LABELS[e.kind]} bước {e.step + 1}"
            return Telling(step=label, line=f"{label} (hạn {vn_time(e.due_at, tz)})")
        case ev.DossierTransferred() | ev.TransferReturned() | ev.ResultSentBack() | \
                ev.PaymentRequested() | ev.PaymentReceived() | ev.FeeRecorded():
            return _transfer_or_payment(event, tz)
    # Every stored type has its telling (a test walks `EVENT_TYPES`); an event type added
    # without one shows its name rather than failing the page.
    return Telling(step=event.event_type, line=event.event_type)


# The citizens' notices (issue 25; motcua/notify/notices.py KINDS) and their channels.
NOTICE_LABELS = {
    "receipt": "tiếp nhận hồ sơ", "submission_accepted": "tiếp nhận hồ sơ trực tuyến",
    "submission_refused": "từ chối tiếp nhận hồ sơ trực tuyến",
    "supplement_request": "yêu cầu bổ sung hồ sơ",
    "extension": "xin lỗi và hẹn lại ngày trả kết quả", "result_ready": "đã có kết quả",
    "returned": "đã trả kết quả", "refusal": "từ chối giải quyết", "withdrawal": "rút hồ sơ",
    "stop": "dừng giải quyết hồ sơ"}
NOTICE_CHANNEL_LABELS = {"sms": "tin nhắn SMS", "zalo": "Zalo", "email": "thư điện tử"}


def vnd(amount: int) -> str:
    """An amount in VND as printed: 1.500.000 đồng."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def _transfer_or_payment(event: ev.Event, tz: tzinfo) -> Telling:
    """Transfers between units and the wait for payment (issue 22 items 3 and 4)."""
    match event:
        case ev.DossierTransferred() as e:
            limit = (f"; trả lại hồ sơ không đủ điều kiện trước {vn_time(e.return_by, tz)}"
                     if e.return_by is not None else "")
            later = (f" (tính thời gian từ {vn_time(e.counted_from, tz)})"
                     if e.counted_from > e.at else "")
            return Telling(step="Chuyển hồ sơ liên thông",
                           line=f"Chuyển hồ sơ từ {e.from_unit} đến {e.to_unit}{later}{limit}",
                           details=_details(("lý do", e.reason)))
        case ev.TransferReturned() as e:
            late = "" if e.in_time else " (quá thời hạn 02 ngày làm việc)"
            notice = (f"; thông báo cho công dân trước {vn_time(e.citizen_notice_by, tz)}"
                      if e.citizen_notice_by is not None else "")
            return Telling(step="Trả lại hồ sơ liên thông",
                           line=f"{e.from_unit} trả lại hồ sơ cho {e.to_unit}{late}{notice}",
                           details=_details(("lý do", e.reason)))
        case ev.ResultSentBack() as e:
            return Telling(step="Chuyển kết quả về nơi tiếp nhận",
                           line=f"Chuyển kết quả từ {e.from_unit} về {e.to_unit} để trả "
                           "cho công dân")
        case ev.PaymentRequested() as e:
            amount = f" ({vnd(e.amount)})" if e.amount is not None else ""
            return Telling(step="Chờ thực hiện nghĩa vụ tài chính",
                           line=f"Đã gửi thông báo nghĩa vụ tài chính{amount}; tạm dừng tính "
                           "thời gian", details=_details(("thông báo", e.notice)))
        case ev.PaymentReceived() as e:
            amount = f" ({vnd(e.amount)})" if e.amount is not None else ""
            return Telling(step="Nhận chứng từ nghĩa vụ tài chính",
                           line=f"Đã nhận chứng từ nộp tiền{amount}; tiếp tục tính thời gian",
                           details=_details(("số chứng từ", e.reference), ("ghi chú", e.note)))
        case ev.FeeRecorded() as e:
            return Telling(step="Thu phí, lệ phí", line=f"Đã thu phí, lệ phí {vnd(e.amount)}",
                           details=_details(("số biên lai", e.reference)))
    return Telling(step=event.event_type, line=event.event_type)
