"""Commands: what clerks, officers, leaders, the citizen and the dossier's own timers ask for.

Every command is one dataclass (so fields can be added compatibly) and carries the acting
person or system and the request's correlation id, which end up in the events' metadata.
"""

# No `from __future__ import annotations`: Temporal's converter resolves these dataclasses'
# type hints inside the workflow sandbox, where string annotations cannot be evaluated.
import dataclasses
from datetime import datetime

from domain.states import AlertKind, Channel, Satisfaction
from domain.terms import DeadlineTerms
from domain.walk import StepPlan


@dataclasses.dataclass(frozen=True, kw_only=True)
class Command:
    actor: str = "system"
    correlation_id: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReceiveDossier(Command):
    code: str
    unit_code: str
    procedure_code: str
    channel: Channel
    applicant_name: str
    applicant_id_number: str | None = None
    applicant_phone: str | None = None
    applicant_email: str | None = None
    applicant_address: str | None = None
    documents: tuple[str, ...] = ()
    original_received_at: datetime | None = None
    # Form 01 "Đăng ký nhận kết quả tại": counter (default) or post.
    result_delivery: str = "counter"
    # The channels the citizen chose for notices (sms, zalo, email; empty: none), and the
    # person who filed for them (the notices go to the proxy's phone when given). Issue 25.
    notify_by: tuple[str, ...] = ()
    proxy_name: str | None = None
    proxy_phone: str | None = None
    # Form 01's paper table (issue 23 item 15): per entry of `documents`, its form ("original",
    # "copy", "certified_copy"; "" not stated) and count (0: not stated). Empty: none stated.
    document_forms: tuple[str, ...] = ()
    document_counts: tuple[int, ...] = ()
    # A receipt entered after the fact (after-hours intake entered the next morning): why
    # `original_received_at` is earlier than the entry. Shown in the history and the register.
    backdate_reason: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SubmitOnline(Command):
    """A citizen's online submission (from the portal integration): the dossier awaits
    acceptance (national code 1) and no due time runs yet (patch `online-intake-v1`)."""

    code: str
    unit_code: str
    procedure_code: str
    applicant_name: str
    applicant_id_number: str | None = None
    applicant_phone: str | None = None
    applicant_email: str | None = None
    applicant_address: str | None = None
    documents: tuple[str, ...] = ()
    result_delivery: str = "counter"
    # The national portal's own code of the submission, kept beside ours (issue 25).
    portal_code: str | None = None
    notify_by: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class AcceptSubmission(Command):
    """The intake clerk accepts a complete online submission: the receipt, with its due time
    counted from the complete submission (`Dossier.counted_from`)."""

    note: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RequestIntakeSupplement(Command):
    """The intake clerk asks for missing papers before accepting: the period will be counted
    again from the start once the dossier is complete (Decree 297/2025 art. 6(4)(a))."""

    reason: str
    documents: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProvideIntakeSupplement(Command):
    """The citizen's supplement to a submission awaiting acceptance arrived."""

    documents: tuple[str, ...] = ()
    note: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RefuseAtIntake(Command):
    """The one-stop shop refuses to accept the submission (national code 3)."""

    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AssignOfficer(Command):
    officer: str
    note: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class StartProcessing(Command):
    officer: str | None = None  # defaults to the assignee


@dataclasses.dataclass(frozen=True, kw_only=True)
class RequestSupplement(Command):
    reason: str
    documents: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProvideSupplement(Command):
    documents: tuple[str, ...] = ()
    note: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CompleteProcessing(Command):
    summary: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReturnResult(Command):
    note: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RefuseDossier(Command):
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class WithdrawDossier(Command):
    reason: str
    # Set by the workflow (patch `withdrawal-stop-notice-v1`), not by callers: the withdrawal
    # (the citizen's request, national code 7) is followed by the stop notice (code 8).
    stop_notice: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class StopProcessing(Command):
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExtendDeadline(Command):
    """Apology with a new appointment. The new due time is given by the leader."""

    reason: str
    new_due_at: datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class RateService(Command):
    satisfaction: Satisfaction
    comment: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RequireVerification(Command):
    """An officer records that the case needs verification, and why: the due time moves to the
    procedure's longer maximum "khi cần xác minh" (once; issue 11 point 4). Not an apology."""

    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordComplaint(Command):
    """A complaint or recommendation (phản ánh, kiến nghị) about the dossier: who made it, by
    which channel, what it says, and its outcome once known. Decision 766 item 5.4 counts the
    dossiers that have one."""

    complainant: str
    channel: str  # e.g. counter, hotline, portal, letter, email
    text: str
    outcome: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordNoticeDelivery(Command):
    """The dispatcher reports a citizen's notice delivered (issue 25): recorded once per
    `delivery_id`, in any state, also after the dossier's life has ended (its refusal or stop
    notice is often delivered after its workflow has finished)."""

    delivery_id: str
    source_event_id: str
    kind: str
    channel: str  # sms, zalo, email
    delivered_at: datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class CorrectCalendar(Command):
    """Operator command: recompute the due time under the calendar the worker now holds."""

    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class AttachFile(Command):
    """A file recorded on the dossier (issue 26): a scanned component (`purpose="component"`)
    or the signed result document (`purpose="result"`). The bytes are stored encrypted outside
    the event store (motcua/files/); the event carries only their description and SHA-256.

    Digitisation at the counter: every page, in order, with matching page counts (Decree
    118/2025 art. 17(1)(c); Circular 01/2023/TT-VPCP art. 8). The three flags are the
    portal's per-file flags (DuocSoHoa, DuocTaiSuDung, DuocLayTuKhoDMQG; DOMAIN.md 9.3)."""

    file_id: str
    name: str
    kind: str  # original | copy (bản chính / bản sao)
    pages: int
    sha256: str
    size: int
    media_type: str
    purpose: str = "component"
    digitised: bool = True
    reused: bool = False
    from_national_store: bool = False
    reused_from: str | None = None  # the earlier dossier's code when reused


@dataclasses.dataclass(frozen=True, kw_only=True)
class HandOverStep(Command):
    """The actor of the current step (or a leader) completes it and hands the dossier to the
    next step's actor (issue 22 item 2): `receiver` names the person, when known."""

    receiver: str | None = None
    note: str | None = None
    # A hand-over into a step of another unit (liên thông) hands the dossier to that unit
    # (issue 22 item 3): set by the workflow under patch `step-transfer-v1`, never by a client.
    transfer_by_steps: bool = False
    # That transfer's instants, as for `TransferDossier`: the service fills them from the
    # office calendar when the next step belongs to another unit (`domain.transfers`).
    counted_from: datetime | None = None
    return_by: datetime | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransferDossier(Command):
    """A leader of the unit holding the dossier hands it over to another unit (liên thông,
    issue 22 item 3): `unit_code` takes it, with the reason. The service fills the two
    instants from the office calendar and the forwarding setting (`domain.transfers`):
    `counted_from`, when the other unit's share starts (now, or the next working morning for
    a dossier forwarded after the cut-off), and `return_by`, the last moment it may return an
    unfit dossier (02 working days; Đồng Tháp 138/2025/QĐ-UBND art. 3(4)(a))."""

    unit_code: str
    reason: str
    counted_from: datetime | None = None
    return_by: datetime | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReturnTransfer(Command):
    """The unit a dossier was transferred to returns it as unfit, with the reason (Đồng Tháp
    138/2025/QĐ-UBND art. 3(4)(a)). `citizen_notice_by` (filled by the service): the one-stop
    shop tells the citizen within 01 working day."""

    reason: str
    citizen_notice_by: datetime | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RequestPayment(Command):
    """The tax (or fee) notice is sent: the dossier waits for the citizen's financial
    obligation (national code 6) and the clock stops (Đồng Tháp 138/2025/QĐ-UBND art. 5(3))."""

    notice: str
    amount: int | None = None  # VND, when the notice states it


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReceivePayment(Command):
    """Proof of payment arrived (at the counter, or from the portal integration): the clock
    resumes and the due time moves by the office time waited."""

    amount: int | None = None  # VND
    reference: str | None = None  # the receipt or payment document's number
    note: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SendBackStep(Command):
    """A leader sends the dossier back to an earlier step (default: the previous one), with the
    reason; that step repeats with a fresh allowance."""

    reason: str
    to_step: int | None = None  # 0-based; None: the step before the current one
    # Back into a step of another unit: the dossier goes back to that unit (patch
    # `step-transfer-v1`, set by the workflow, as on `HandOverStep`).
    transfer_by_steps: bool = False

@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordFee(Command):
    """The procedure's fee (phí, lệ phí) paid at the counter, in VND, with the receipt's
    number: shown on the receipt (motcua/documents)."""

    amount: int
    reference: str | None = None


# Internal commands, issued by the workflow itself -------------------------------------------

@dataclasses.dataclass(frozen=True, kw_only=True)
class SetDeadline(Command, DeadlineTerms):
    """Give the dossier the computed due time (`DeadlineTerms`), for `reason`
    (`domain.deadlines.DEADLINE_REASONS`)."""

    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class RaiseAlert(Command):
    kind: AlertKind
    # Also raise every later alert already due at the same instant (overdue and overdue
    # without apology share theirs), so they are stored in one append.
    all_due: bool = False
    # Alerts at the legal due time and at an apology's new appointment (patch
    # `apology-legal-due-v1`; `Dossier.pending_alert`).
    legal_due: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class RecordNotification(Command):
    kind: str
    alert_event_id: str
    delivered: bool
    attempts: int
    error: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class BeginSteps(Command):
    """Start the internal procedure `plan` at the receipt (patch `internal-steps-v1`)."""

    plan: StepPlan


@dataclasses.dataclass(frozen=True, kw_only=True)
class SetStepDue(Command):
    """Give the open step the due instant the step activity worked out."""

    step: int
    due_at: datetime | None
    due_soon_at: datetime | None = None
    credit_seconds: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class RaiseStepAlert(Command):
    kind: AlertKind
    step: int
