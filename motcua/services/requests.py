"""Request bodies (pydantic, with OpenAPI examples). Every string is NFC-normalised and checked
by the types in `motcua.services.text`; unknown fields are refused (422), so a misspelt field never
silently drops a clerk's input.

Each action body's fields carry the names of its command's fields (`domain.commands`), so
`command()` builds the command without a mapping table to keep in step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain import commands as cmd
from domain.calendar import Calendar
from domain.states import Channel, Satisfaction
from motcua.problems import invalid_input
from motcua.services.checks import check_due_time
from motcua.services.text import Code, Document, Instant, Name, Note, Reason, Short

MAX_DOCUMENTS = 50


class Inbound(BaseModel):
    """Base of every request body: strict about unknown fields."""

    model_config = ConfigDict(extra="forbid")


class Applicant(Inbound):
    """The citizen or organisation submitting the dossier (personal data: staff-only)."""

    name: Name = Field(examples=["Nguyễn Văn An"])
    id_number: Short | None = Field(default=None, max_length=32, examples=["001090012345"])
    phone: Short | None = Field(default=None, max_length=32, examples=["0912345678"])
    email: Short | None = Field(default=None, max_length=254, examples=["an.nv@example.vn"])
    address: Note | None = Field(default=None, max_length=500,
                                 examples=["Số 1 Tràng Tiền, Hoàn Kiếm, Hà Nội"])


NoticeChannel = Literal["sms", "zalo", "email"]


class Proxy(Inbound):
    """The person who filed for the applicant (personal data: staff-only); notices by SMS and
    Zalo go to their phone."""

    name: Name = Field(examples=["Trần Thị Bình"])
    phone: Short | None = Field(default=None, max_length=32, examples=["0987654321"])


class Paper(Inbound):
    """One paper as form 01's table lists it (Circular 01/2018/TT-VPCP, form 01: "Tên loại
    giấy tờ", "Hình thức", "Số lượng"): its name, the form it was handed in as and how many."""

    name: Document = Field(examples=["Giấy chứng sinh"])
    form: Literal["original", "copy", "certified_copy"] | None = Field(
        default=None, description="original (bản chính), copy (bản sao) or certified_copy "
        "(bản sao có chứng thực); none: not stated.")
    count: int = Field(default=1, ge=1, le=99, description="How many of this paper.")


def _channels(values: Sequence[str]) -> tuple[str, ...]:
    """The chosen channels once each, in the order given."""
    return tuple(dict.fromkeys(values))


class ReceiveRequest(Inbound):
    """Receive a dossier at the counter, online or by post."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "procedure_code": "1.001193", "unit_code": "000.21.39.H39", "channel": "counter",
        "applicant": {"name": "Nguyễn Văn An", "phone": "0912345678"},
        "documents": ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]}]})

    procedure_code: Code = Field(description="Catalog code (`GET /v1/procedures`).",
                                 examples=["1.001193"])
    unit_code: Code = Field(description="Receiving unit (`GET /v1/units`).",
                            examples=["000.21.39.H39"])
    channel: Channel = Field(description="counter, online or postal.")
    applicant: Applicant
    documents: list[Document] = Field(default_factory=list, max_length=MAX_DOCUMENTS)
    original_received_at: Instant | None = Field(
        default=None, description="Only when importing a dossier already in progress: when it "
        "was really received (ISO 8601 with offset, not in the future).")
    result_delivery: Literal["counter", "post"] = Field(
        default="counter", description="Where the citizen collects the result (form 01 \"Đăng "
        "ký nhận kết quả tại\"): at the counter or by post.")
    notify_by: list[NoticeChannel] = Field(
        default_factory=list, max_length=3, description="The channels the citizen chose for "
        "notices about this dossier (sms, zalo: the applicant's or the proxy's phone; email: "
        "the applicant's e-mail). Empty: no notice.")
    proxy: Proxy | None = Field(default=None, description="The person who filed, if not the "
                                "applicant.")
    papers: list[Paper] = Field(
        default_factory=list, max_length=MAX_DOCUMENTS, description="Papers with their form "
        "and count, as the receipt (form 01) lists them; appended after `documents` (which "
        "print without form and count).")
    backdate_reason: Reason | None = Field(
        default=None, max_length=500, description="With `original_received_at`: why the "
        "receipt is entered after the fact (e.g. received after hours, entered the next "
        "morning). Recorded in the events and shown in the register.")

    def _paper_table(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[int, ...]]:
        """`documents` then `papers`: names, forms and counts (empty when no paper has them)."""
        names = (*self.documents, *(p.name for p in self.papers))
        if not self.papers:
            return names, (), ()
        forms = ("",) * len(self.documents) + tuple(p.form or "" for p in self.papers)
        counts = (0,) * len(self.documents) + tuple(p.count for p in self.papers)
        return names, forms, counts

    def command(self, *, code: str, actor: str, correlation_id: str) -> cmd.ReceiveDossier:
        """The engine command for this request under the allocated `code`."""
        names, forms, counts = self._paper_table()
        return cmd.ReceiveDossier(
            code=code, unit_code=self.unit_code, procedure_code=self.procedure_code,
            channel=self.channel, applicant_name=self.applicant.name,
            applicant_id_number=self.applicant.id_number, applicant_phone=self.applicant.phone,
            applicant_email=self.applicant.email, applicant_address=self.applicant.address,
            documents=names, original_received_at=self.original_received_at,
            result_delivery=self.result_delivery, notify_by=_channels(self.notify_by),
            proxy_name=self.proxy.name if self.proxy else None,
            proxy_phone=self.proxy.phone if self.proxy else None,
            document_forms=forms, document_counts=counts,
            backdate_reason=self.backdate_reason, actor=actor, correlation_id=correlation_id)


class SubmitOnlineRequest(Inbound):
    """A citizen's online submission, sent by the portal integration: the dossier awaits
    acceptance by the intake clerk (national code 1); no due time runs yet."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "procedure_code": "1.001193", "unit_code": "000.21.39.H39",
        "applicant": {"name": "Nguyễn Văn An", "phone": "0912345678"},
        "documents": ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]}]})

    procedure_code: Code = Field(description="Catalog code (`GET /v1/procedures`).",
                                 examples=["1.001193"])
    unit_code: Code = Field(description="Unit the dossier is submitted to (`GET /v1/units`).",
                            examples=["000.21.39.H39"])
    applicant: Applicant
    documents: list[Document] = Field(default_factory=list, max_length=MAX_DOCUMENTS)
    result_delivery: Literal["counter", "post"] = Field(
        default="counter", description="Where the citizen collects the result: at the "
        "counter or by post.")
    portal_code: Code | None = Field(
        default=None, description="The national portal's own code of this submission, kept "
        "beside ours and sent back with every synchronisation.")
    notify_by: list[NoticeChannel] = Field(default_factory=list, max_length=3)

    def command(self, *, code: str, actor: str, correlation_id: str) -> cmd.SubmitOnline:
        """The engine command for this submission under the allocated `code`."""
        return cmd.SubmitOnline(
            code=code, unit_code=self.unit_code, procedure_code=self.procedure_code,
            applicant_name=self.applicant.name, applicant_id_number=self.applicant.id_number,
            applicant_phone=self.applicant.phone, applicant_email=self.applicant.email,
            applicant_address=self.applicant.address, documents=tuple(self.documents),
            result_delivery=self.result_delivery, portal_code=self.portal_code,
            notify_by=_channels(self.notify_by), actor=actor, correlation_id=correlation_id)


class ActionBody(Inbound):
    """Base of the action bodies; `command_type` is the engine command it becomes."""

    command_type: ClassVar[type[cmd.Command]]

    def command(self, *, actor: str, correlation_id: str) -> cmd.Command:
        """The engine command for this body, acted by `actor`."""
        fields: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in self.model_dump().items()}
        return self.command_type(**fields, actor=actor, correlation_id=correlation_id)

    def check(self, calendar: Calendar) -> None:
        """Checks made before the engine sees the command (`motcua.services.checks`); none unless
        a body says otherwise."""


def body_for(command: type[cmd.Command]) -> type[ActionBody]:
    """The request body of the action whose command is `command` (see `motcua.actions`)."""
    bodies = [body for body in ActionBody.__subclasses__() if body.command_type is command]
    if len(bodies) != 1:
        raise LookupError(f"{len(bodies)} request bodies build {command.__name__}; need one")
    return bodies[0]


def _example(**values: Any) -> ConfigDict:
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [values]})


class AcceptBody(ActionBody):
    """Accept the online submission: the dossier is received and given its due time."""

    model_config = _example(note="Hồ sơ đầy đủ, hợp lệ")
    command_type = cmd.AcceptSubmission
    note: Note | None = None


class RequestIntakeSupplementBody(ActionBody):
    """Before acceptance: ask for missing papers (the period restarts once complete)."""

    model_config = _example(reason="Thiếu bản sao giấy chứng sinh",
                            documents=["Bản sao giấy chứng sinh"])
    command_type = cmd.RequestIntakeSupplement
    reason: Reason
    documents: list[Document] = Field(default_factory=list, max_length=MAX_DOCUMENTS)


class IntakeSupplementBody(ActionBody):
    """Before acceptance: the citizen's missing papers arrived."""

    model_config = _example(documents=["Bản sao giấy chứng sinh"], note="Đã đủ")
    command_type = cmd.ProvideIntakeSupplement
    documents: list[Document] = Field(default_factory=list, max_length=MAX_DOCUMENTS)
    note: Note | None = None


class RefuseAtIntakeBody(ActionBody):
    """Refuse the online submission at intake, with the reason given to the citizen."""

    model_config = _example(reason="Thủ tục không thuộc thẩm quyền tiếp nhận của đơn vị")
    command_type = cmd.RefuseAtIntake
    reason: Reason


class AssignBody(ActionBody):
    """Assign (or reassign) the dossier to an officer."""

    model_config = _example(officer="officer-7", note="Ưu tiên xử lý")
    command_type = cmd.AssignOfficer
    officer: Name
    note: Note | None = None


class StartBody(ActionBody):
    """Start processing; the officer defaults to the assignee."""

    model_config = _example(officer="officer-7")
    command_type = cmd.StartProcessing
    officer: Name | None = None


class RequestSupplementBody(ActionBody):
    """Ask the citizen for missing papers (the clock stops until they arrive)."""

    model_config = _example(reason="Thiếu bản sao giấy đăng ký kết hôn",
                            documents=["Bản sao giấy đăng ký kết hôn"])
    command_type = cmd.RequestSupplement
    reason: Reason
    documents: list[Document] = Field(default_factory=list, max_length=MAX_DOCUMENTS)


class SupplementBody(ActionBody):
    """The citizen brought the missing papers (the clock resumes)."""

    model_config = _example(documents=["Bản sao giấy đăng ký kết hôn"], note="Đã đủ")
    command_type = cmd.ProvideSupplement
    documents: list[Document] = Field(default_factory=list, max_length=MAX_DOCUMENTS)
    note: Note | None = None


class CompleteBody(ActionBody):
    """Processing finished; the result is ready to hand back."""

    model_config = _example(summary="Đã cấp giấy khai sinh")
    command_type = cmd.CompleteProcessing
    summary: Reason


class ReturnBody(ActionBody):
    """The result was handed back to the citizen."""

    model_config = _example(note="Công dân đã nhận kết quả")
    command_type = cmd.ReturnResult
    note: Note | None = None


class RefuseBody(ActionBody):
    """Refuse the dossier, with the reason given to the citizen."""

    model_config = _example(reason="Không thuộc thẩm quyền giải quyết")
    command_type = cmd.RefuseDossier
    reason: Reason


class WithdrawBody(ActionBody):
    """The citizen withdraws the dossier."""

    model_config = _example(reason="Công dân xin rút hồ sơ")
    command_type = cmd.WithdrawDossier
    reason: Reason


class StopBody(ActionBody):
    """Stop processing (e.g. the legal basis lapsed)."""

    model_config = _example(reason="Căn cứ pháp lý không còn hiệu lực")
    command_type = cmd.StopProcessing
    reason: Reason


class ExtendBody(ActionBody):
    """Apologise and set a new appointment (allowed once)."""

    model_config = _example(reason="Cần xác minh thêm", new_due_at="2026-12-10T17:00:00+07:00")
    command_type = cmd.ExtendDeadline
    reason: Reason
    new_due_at: Instant

    def check(self, calendar: Calendar) -> None:
        check_due_time(calendar, self.new_due_at, "new_due_at")


class VerificationBody(ActionBody):
    """Verification is needed: the due time moves to the procedure's maximum (once)."""

    model_config = _example(reason="Cần xác minh điều kiện kết hôn tại nơi cư trú cũ")
    command_type = cmd.RequireVerification
    reason: Reason


class ComplaintBody(ActionBody):
    """A complaint or recommendation (phản ánh, kiến nghị) about the dossier."""

    model_config = _example(complainant="Nguyễn Văn An", channel="hotline",
                            text="Chưa nhận được kết quả đúng hẹn")
    command_type = cmd.RecordComplaint
    complainant: Name
    channel: Short = Field(max_length=32, examples=["hotline"])
    text: Note
    outcome: Note | None = None


class RateBody(ActionBody):
    """The citizen's satisfaction with a returned dossier."""

    model_config = _example(satisfaction="very_satisfied", comment="Nhanh chóng")
    command_type = cmd.RateService
    satisfaction: Satisfaction
    comment: Note | None = Field(default=None, description="Required (the reason) when "
                                 "`satisfaction` is `not_satisfied`.")

    def check(self, calendar: Calendar) -> None:
        # "Không hài lòng" asks why (issue 23 item 12): a rating the unit cannot act on is
        # of no use to it. Our reading; Decision 766 counts the ratings, it sets no form.
        # Checked here, before the engine, so a refused rating records nothing; the workflow
        # does not check it, so histories rated before the rule replay unchanged.
        if self.satisfaction is Satisfaction.NOT_SATISFIED and not (self.comment or "").strip():
            raise invalid_input("comment", "a reason is required when not satisfied")


class ReissueLookupRequest(Inbound):
    """A new lookup secret for a dossier whose receipt the citizen lost (issue 24 point 7):
    the earlier secret stops working; the reason is recorded with who asked."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"reason": "Công dân báo mất giấy biên nhận"}]})
    reason: Reason = Field(max_length=500)


class HandOverBody(ActionBody):
    """Complete my step of the internal procedure and hand the dossier to the next step's
    actor (naming the person, when known)."""

    model_config = _example(receiver="officer-7", note="Đã kiểm tra, chuyển thụ lý")
    command_type = cmd.HandOverStep
    receiver: Name | None = None
    note: Note | None = None


class SendBackBody(ActionBody):
    """Send the dossier back to an earlier step (default: the previous one), with the reason;
    that step runs again with a fresh allowance."""

    model_config = _example(reason="Dự thảo chưa đúng mẫu, đề nghị sửa lại")
    command_type = cmd.SendBackStep
    reason: Reason
    to_step: int | None = Field(default=None, ge=0, le=99,
                                description="0-based index of the step to send it back to.")
# Transfers between units and the wait for payment (issue 22 items 3 and 4). The instants of
# a transfer (`counted_from`, `return_by`, `citizen_notice_by`) are not sent by clients: the
# service fills them from the office calendar and the forwarding setting
# (`motcua.services.transfers`).
Amount = int  # VND: whole đồng


class TransferBody(ActionBody):
    """Hand the dossier over to another unit (liên thông), with the reason."""

    model_config = _example(unit_code="000.00.15.H39",
                            reason="Chuyển Sở Nội vụ thẩm định theo thẩm quyền")
    command_type = cmd.TransferDossier
    unit_code: Code = Field(description="The unit that takes the dossier (`GET /v1/units`).")
    reason: Reason


class ReturnTransferBody(ActionBody):
    """Return a transferred dossier as unfit to the unit that sent it, with the reason."""

    model_config = _example(reason="Hồ sơ thiếu văn bản thẩm định của cấp xã")
    command_type = cmd.ReturnTransfer
    reason: Reason


class RequestPaymentBody(ActionBody):
    """The tax or fee notice was sent: the dossier waits for payment (code 6), clock stopped."""

    model_config = _example(notice="Thông báo nộp lệ phí trước bạ số 123/TB-CCT",
                            amount=1500000)
    command_type = cmd.RequestPayment
    notice: Reason
    amount: Amount | None = Field(default=None, gt=0, le=10**13,
                                  description="VND, as the notice states it.")


class PaymentReceivedBody(ActionBody):
    """Proof of payment arrived: the clock resumes and the due time moves by the wait."""

    model_config = _example(amount=1500000, reference="BL-0001234", note="Nộp tại quầy")
    command_type = cmd.ReceivePayment
    amount: Amount | None = Field(default=None, gt=0, le=10**13, description="VND.")
    reference: Short | None = Field(default=None, max_length=64)
    note: Note | None = None


class RecordFeeBody(ActionBody):
    """The procedure's fee paid at the counter (VND), with the receipt's number."""

    model_config = _example(amount=50000, reference="BL-0001235")
    command_type = cmd.RecordFee
    amount: Amount = Field(gt=0, le=10**13, description="VND.")
    reference: Short | None = Field(default=None, max_length=64)


class PortalPaymentRequest(Inbound):
    """A payment the national portal reports for a dossier waiting for fees or taxes (code 6;
    issue 25 item 1). Not an `ActionBody`: it becomes the counter's `payment-received`
    (`motcua.services.payments`), keyed by the portal's transaction number."""

    model_config = _example(reference="DVCQG-TT-20261207-000123", amount=1500000,
                            paid_at="2026-12-07T09:15:00+07:00")
    reference: Code = Field(
        description="The portal's payment transaction number (one per payment): the same "
        "number reported again answers the dossier as it is, nothing recorded twice.")
    amount: Amount | None = Field(default=None, gt=0, le=10**13, description="VND.")
    paid_at: Instant | None = Field(
        default=None, description="When the citizen paid, as the portal says (recorded in the "
        "event's note; the clock resumes when the report arrives, the proof of payment).")
