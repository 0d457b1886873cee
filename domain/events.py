"""Domain events: past-tense facts, one frozen dataclass each, with a stable `event_type`.

Events carry domain facts only. Who did it, the correlation id and the command that caused it
travel in the stored event's metadata (see `EventEnvelope` in `domain.envelope`).

Schema versions: a stored event keeps the `schema_version` it was written with. When an event's
fields change, raise its class's `schema_version` and register an upcaster from the old version
(`@upcaster("EventType", 1)`: a function from the v1 payload to the v2 payload); `from_payload`
applies them in turn, so every reader (workflow, projector, API, documents) sees the current
shape. Every event is at version 1 today.
"""

# No `from __future__ import annotations`: Temporal's converter resolves these dataclasses'
# type hints inside the workflow sandbox, where string annotations cannot be evaluated.
import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from domain.codec import from_dict, to_dict
from domain.states import AlertKind, Channel, Satisfaction, Timeliness
from domain.terms import DeadlineTerms
from domain.walk import PlannedStep


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events. `at` is the instant the fact became true (workflow time)."""

    event_type: ClassVar[str] = "Event"
    schema_version: ClassVar[int] = 1

    at: datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class DossierReceived(Event):
    event_type: ClassVar[str] = "DossierReceived"
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
    # For dossiers imported from a legacy system: when the citizen really handed it in.
    original_received_at: datetime | None = None
    # Where the citizen will collect the result (form 01 "Đăng ký nhận kết quả tại").
    result_delivery: str = "counter"
    # Notices (issue 25): the channels chosen at intake (none: the citizen declined) and the
    # proxy who filed (their phone receives the notices).
    notify_by: tuple[str, ...] = ()
    proxy_name: str | None = None
    proxy_phone: str | None = None
    # Form 01's paper table, aligned with `documents` (issue 23 item 15): each paper's form
    # ("original", "copy", "certified_copy"; "" not stated) and count (0: not stated).
    document_forms: tuple[str, ...] = ()
    document_counts: tuple[int, ...] = ()
    # Why the receipt was entered after `original_received_at` (after-hours intake entered the
    # next morning); None for a receipt entered as it happened, or an import without a reason.
    backdate_reason: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class DossierSubmitted(Event):
    """A citizen's online submission, awaiting acceptance (national code 1). Same particulars
    as a receipt; the channel is always online."""

    event_type: ClassVar[str] = "DossierSubmitted"
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
    channel: Channel = Channel.ONLINE
    # The national portal's code of the submission (kept beside ours) and the notice channels.
    portal_code: str | None = None
    notify_by: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class IntakeSupplementRequested(Event):
    """Before acceptance: missing papers asked for. Not a pause: the period restarts from the
    complete dossier (Decree 297/2025 art. 6(4)(a))."""

    event_type: ClassVar[str] = "IntakeSupplementRequested"
    reason: str
    documents: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class IntakeSupplementReceived(Event):
    """Before acceptance: the citizen's supplement arrived; the period will count from `at`."""

    event_type: ClassVar[str] = "IntakeSupplementReceived"
    documents: tuple[str, ...] = ()
    note: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SubmissionAccepted(Event):
    """The online submission is accepted: the dossier is received (code 2) at `at`, and its
    processing time counts from `counted_from`, the instant the complete dossier reached the
    office (the submission, or the supplement that completed it)."""

    event_type: ClassVar[str] = "SubmissionAccepted"
    counted_from: datetime
    note: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SubmissionRefused(Event):
    """The submission is refused at intake (national code 3), with the reason."""

    event_type: ClassVar[str] = "SubmissionRefused"
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeadlineSet(Event, DeadlineTerms):
    """A (new) due time given to the citizen. Never recomputed silently: a new version is a new
    event with its reason, and the calendar and catalog versions used (`DeadlineTerms`)."""

    event_type: ClassVar[str] = "DeadlineSet"
    version: int
    reason: str  # receipt | supplement_received | extension | calendar_correction | verification


@dataclasses.dataclass(frozen=True, kw_only=True)
class OfficerAssigned(Event):
    event_type: ClassVar[str] = "OfficerAssigned"
    officer: str
    note: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProcessingStarted(Event):
    event_type: ClassVar[str] = "ProcessingStarted"
    officer: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class SupplementRequested(Event):
    """The clock stops. A second request during processing makes the dossier count as late
    (Decision 766), recorded here so reports need not re-derive it."""

    event_type: ClassVar[str] = "SupplementRequested"
    reason: str
    documents: tuple[str, ...] = ()
    counts_as_late: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class SupplementReceived(Event):
    event_type: ClassVar[str] = "SupplementReceived"
    documents: tuple[str, ...] = ()
    note: str | None = None
    paused_seconds: int = 0  # wall-clock time the dossier waited


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResultReady(Event):
    event_type: ClassVar[str] = "ResultReady"
    summary: str
    timeliness: Timeliness


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResultReturned(Event):
    event_type: ClassVar[str] = "ResultReturned"
    timeliness: Timeliness
    turnaround_seconds: int
    note: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class DossierRefused(Event):
    event_type: ClassVar[str] = "DossierRefused"
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class DossierWithdrawn(Event):
    event_type: ClassVar[str] = "DossierWithdrawn"
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProcessingStopped(Event):
    event_type: ClassVar[str] = "ProcessingStopped"
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeadlineExtended(Event):
    """The written apology with its reason and new appointment (allowed once). `in_time` says
    whether it was sent by the legal last moment (the due-soon instant)."""

    event_type: ClassVar[str] = "DeadlineExtended"
    reason: str
    previous_due_at: datetime
    new_due_at: datetime
    in_time: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServiceRated(Event):
    event_type: ClassVar[str] = "ServiceRated"
    satisfaction: Satisfaction
    comment: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class VerificationRequired(Event):
    """Verification is needed: the due time becomes the procedure's verification maximum."""

    event_type: ClassVar[str] = "VerificationRequired"
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ComplaintRecorded(Event):
    """A complaint or recommendation about the dossier (Decision 766 item 5.4)."""

    event_type: ClassVar[str] = "ComplaintRecorded"
    complainant: str
    channel: str
    text: str
    outcome: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeadlineAlertRaised(Event):
    """A durable timer fired: due soon, overdue, or overdue without apology (once per kind and
    deadline version)."""

    event_type: ClassVar[str] = "DeadlineAlertRaised"
    kind: AlertKind
    deadline_version: int
    due_at: datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class NotificationSent(Event):
    event_type: ClassVar[str] = "NotificationSent"
    kind: str
    alert_event_id: str
    attempts: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class NotificationFailed(Event):
    event_type: ClassVar[str] = "NotificationFailed"
    kind: str
    alert_event_id: str
    attempts: int
    error: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class FileAttached(Event):
    """A file recorded on the dossier (see `commands.AttachFile`); `uploaded_by` is who
    scanned or uploaded it, `at` when. Never the bytes: those live encrypted in the file store,
    under the dossier's own key."""

    event_type: ClassVar[str] = "FileAttached"
    file_id: str
    name: str
    kind: str
    pages: int
    sha256: str
    size: int
    media_type: str
    uploaded_by: str
    purpose: str = "component"
    digitised: bool = True
    reused: bool = False
    from_national_store: bool = False
    reused_from: str | None = None


# Internal procedures (issue 22 item 2, patch `internal-steps-v1`; `domain.walk`) ------------

@dataclasses.dataclass(frozen=True, kw_only=True)
class StepsBegun(Event):
    """The dossier was received under a procedure with an internal procedure: its plan, copied
    so that a later catalog never changes it, and the first step starting at `started_at`."""

    event_type: ClassVar[str] = "StepsBegun"
    version: str
    day_hours: int
    carry_over: bool
    steps: tuple[PlannedStep, ...]
    started_at: datetime
    giver: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepHandedOver(Event):
    """A hand-over (người giao → người nhận): step `from_step` ended and `to_step` began (None:
    the last step ended). `unit_code` is the unit answering for `to_step`."""

    event_type: ClassVar[str] = "StepHandedOver"
    from_step: int
    to_step: int | None
    giver: str
    receiver: str | None = None
    unit_code: str = ""
    note: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepSentBack(Event):
    """A leader sent the dossier back from `from_step` to the earlier `to_step`, which runs
    again with a fresh allowance."""

    event_type: ClassVar[str] = "StepSentBack"
    from_step: int
    to_step: int
    by: str
    reason: str
    unit_code: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepDueSet(Event):
    """The open run of `step` got its due instant from its own allowance (None: untimed), or
    had it moved by a pause; worked out by the step activity with the office calendar."""

    event_type: ClassVar[str] = "StepDueSet"
    step: int
    due_at: datetime | None
    due_soon_at: datetime | None = None
    credit_seconds: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepAlertRaised(Event):
    """A step's own alert (due soon, overdue) to its actor: `role` in `unit_code`, or the
    named `receiver`."""

    event_type: ClassVar[str] = "StepAlertRaised"
    kind: AlertKind
    step: int
    due_at: datetime
    unit_code: str
    role: str
    receiver: str | None = None

@dataclasses.dataclass(frozen=True, kw_only=True)
class DossierTransferred(Event):
    """The dossier handed from `from_unit` to `to_unit` (liên thông). The receiving unit keeps
    seeing it; `to_unit` now holds it and acts on it. `counted_from`: when its share of the
    time starts; `return_by`: the last moment it may return the dossier as unfit."""

    event_type: ClassVar[str] = "DossierTransferred"
    from_unit: str
    to_unit: str
    reason: str
    counted_from: datetime
    return_by: datetime | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class TransferReturned(Event):
    """The unit holding a transferred dossier returned it as unfit to the unit that sent it;
    `in_time`: by its `return_by`. `citizen_notice_by`: the one-stop shop's last moment to
    tell the citizen (Đồng Tháp 138/2025/QĐ-UBND art. 3(4)(a))."""

    event_type: ClassVar[str] = "TransferReturned"
    from_unit: str
    to_unit: str
    reason: str
    in_time: bool
    citizen_notice_by: datetime | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResultSentBack(Event):
    """The result of a transferred dossier goes back to the unit that received it, which
    returns it to the citizen (Nghệ An 3783/QĐ-UBND art. 2(2)(d))."""

    event_type: ClassVar[str] = "ResultSentBack"
    from_unit: str
    to_unit: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentRequested(Event):
    """The tax or fee notice was sent: the dossier waits for payment (national code 6), the
    clock stopped. `at` is the first appointment (Đồng Tháp 138/2025/QĐ-UBND art. 5(3))."""

    event_type: ClassVar[str] = "PaymentRequested"
    notice: str
    amount: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class PaymentReceived(Event):
    """Proof of payment arrived: the clock resumes; the second appointment is counted from
    here (the new `DeadlineSet`, reason `payment_received`)."""

    event_type: ClassVar[str] = "PaymentReceived"
    amount: int | None = None
    reference: str | None = None
    note: str | None = None
    paused_seconds: int = 0


@dataclasses.dataclass(frozen=True, kw_only=True)
class FeeRecorded(Event):
    """The procedure's fee paid at the counter (VND), with the receipt's number."""

    event_type: ClassVar[str] = "FeeRecorded"
    amount: int
    reference: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class NoticeDelivered(Event):
    """A citizen's notice reached its channel's gateway (issue 25): the SMS gateway or Zalo
    accepted it, the SMTP server took the mail. Recorded once per delivery (`delivery_id`, the
    outbox row's key `<source event id>:<channel>:<kind>`); `source_event_id` is the event the
    notice tells of. No address and no text: what was said is the template of `kind`, sent to
    the address the citizen gave at intake (motcua/notify/notices.py). `at` is when it was
    recorded, `delivered_at` when the gateway accepted it."""

    event_type: ClassVar[str] = "NoticeDelivered"
    delivery_id: str
    source_event_id: str
    kind: str
    channel: str
    delivered_at: datetime


EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls
    for cls in (
        DossierReceived, DeadlineSet, OfficerAssigned, ProcessingStarted, SupplementRequested,
        SupplementReceived, ResultReady, ResultReturned, DossierRefused, DossierWithdrawn,
        ProcessingStopped, DeadlineExtended, ServiceRated, DeadlineAlertRaised,
        NotificationSent, NotificationFailed, ComplaintRecorded, VerificationRequired,
        DossierSubmitted, IntakeSupplementRequested, IntakeSupplementReceived,
        SubmissionAccepted, SubmissionRefused, FileAttached,
        StepsBegun, StepHandedOver, StepSentBack, StepDueSet, StepAlertRaised,
        # Transfers between units and the wait for payment (issue 22 items 3 and 4).
        DossierTransferred, TransferReturned, ResultSentBack, PaymentRequested,
        PaymentReceived, FeeRecorded,
        # Citizens' notices delivered (issue 25 item 2).
        NoticeDelivered,
    )
}


def to_payload(event: Event) -> dict[str, Any]:
    """The event's fields as JSON-safe values (datetimes as ISO 8601 with offset)."""
    return to_dict(event)


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# (event type, version) -> the function taking that version's payload to the next version's.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register the decorated function as the upcaster of `event_type` payloads written at
    `from_version` (it returns the payload at `from_version + 1`)."""
    def register(fn: Upcaster) -> Upcaster:
        key = (event_type, from_version)
        if key in UPCASTERS:
            raise ValueError(f"an upcaster for {event_type} v{from_version} is registered")
        UPCASTERS[key] = fn
        return fn
    return register


def upcast(event_type: str, payload: dict[str, Any], schema_version: int,
           current: int) -> dict[str, Any]:
    """`payload`, written at `schema_version`, brought to `current` one version at a time."""
    if schema_version > current:
        raise ValueError(f"{event_type} v{schema_version} is newer than this code (v{current})")
    for version in range(schema_version, current):
        step = UPCASTERS.get((event_type, version))
        if step is None:
            raise ValueError(f"no upcaster for {event_type} v{version} -> v{version + 1}")
        payload = step(payload)
    return payload


def from_payload(event_type: str, payload: dict[str, Any],
                 schema_version: int | None = None) -> Event:
    """Rebuild an event from its stored type, payload and schema version (None: the payload is
    at the current version, e.g. straight from `to_payload`), upcasting older versions."""
    cls = EVENT_TYPES.get(event_type)
    if cls is None:
        raise ValueError(f"unknown event type {event_type!r}")
    if schema_version is not None:
        payload = upcast(event_type, payload, schema_version, cls.schema_version)
    return from_dict(cls, payload)
