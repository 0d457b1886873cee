"""Response bodies and how they are built from the engine's `Dossier` and the event store.

The staff view carries the timeline (the process-control slip): every stored event with its
actor, time and correlation id. The public view carries no personal data: no applicant, no
officer, no reasons (free text may name people), no timeline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from pydantic import BaseModel, Field

from domain import walk
from domain.catalog import Catalog
from domain.dossier import Dossier
from domain.envelope import EventEnvelope
from domain.states import Channel, DossierState, Satisfaction, SlaStatus, Timeliness
from motcua.catalog.calendar import office_zone
from motcua.eventstore.outbox import Delivery

CODE_EXAMPLE = "000.21.39.H39-261126-0001"


class RiskView(BaseModel):
    """The forecast that the open dossier finishes late (motcua.whatif.forecast)."""

    probability: float = Field(description="P(late), 0..1.", examples=[0.82])
    basis: str = Field(description="procedure_unit | procedure | all (the finished dossiers "
                       "it learnt from), or overdue | late_by_supplement (the state decides).")
    sample: int = Field(description="Finished dossiers it rests on.")


class SlaView(BaseModel):
    """Where the dossier stands against its due time."""

    status: SlaStatus = Field(description="on_track | due_soon | overdue | paused | closed")
    due_at: datetime | None
    due_soon_at: datetime | None
    original_due_at: datetime | None = Field(description="The due time on the receipt.")
    extended: bool
    supplement_requests: int
    deadline_version: int = Field(description="1 on receipt; +1 for each audited change.")
    calendar_version: str = Field(description="Hash of the calendar the due time used.")
    catalog_version: str = Field(description="Version of the procedure catalog used.")
    rule: str = Field(description="The counting rule, e.g. civil_code.")
    legal_due_at: datetime | None = Field(
        default=None, description="The due time without an apology's extension (supplement "
        "pauses and calendar corrections included): timeliness is judged against it.")
    appointment_at: datetime | None = Field(
        default=None, description="The new appointment given with the apology (null without "
        "one); `due_at` shows it too, as the time in force.")
    apology_in_time: bool | None = Field(
        default=None, description="Whether the apology was sent by one working day before the "
        "due time; false: accepted, flagged late; null without one.")
    apology_delivered_at: datetime | None = Field(
        default=None, description="When the apology's notice first reached a channel the "
        "citizen chose (its NoticeDelivered event); null before, or without a channel.")
    rule_name: str = Field(default="", description="The counting rule with its unit and "
                           "version, e.g. civil_code/working_days@v2.")
    rule_source: str = Field(default="", description="The legal texts the counting rule "
                             "follows (law, article, clause).")
    risk: RiskView | None = Field(default=None, description="Forecast of finishing late, for "
                                  "an open dossier (null when closed or not yet forecast).")


class TimelineEntry(BaseModel):
    """One event of the dossier, as stored."""

    position: int
    event_type: str = Field(examples=["OfficerAssigned"])
    at: datetime
    actor: str | None = Field(examples=["leader-1"])
    correlation_id: str | None
    data: dict[str, Any] = Field(description="The event's payload.")


class StepView(BaseModel):
    """One step of the dossier's internal procedure (issue 22), with its latest run."""

    name: str
    role: str = Field(description="clerk, officer, leader or records_clerk.")
    actor: str = Field(description="The actor as the province's decision prints it.")
    unit_code: str = Field(description="The unit answering for this step.")
    allowance_hours: int | None = Field(description="Office hours; null: untimed.")
    started_at: datetime | None = Field(description="Null until the step starts.")
    due_at: datetime | None = Field(description="Null until the step starts (or untimed).")
    ended_at: datetime | None
    timeliness: Timeliness | None = Field(description="Judged by instant against the step's "
                                          "own due time; null while open or untimed.")
    receiver: str | None = Field(default=None, description="The person it was handed to.")
    runs: int = Field(default=0, description="How many times the step ran (a send-back "
                      "repeats it).")


class StepRunView(BaseModel):
    """One run of one step, in order: the trail the history shows."""

    step: int = Field(description="0-based index into `steps`.")
    started_at: datetime
    due_at: datetime | None
    ended_at: datetime | None
    outcome: str | None = Field(description="handed_over, sent_back, or null while open.")
    giver: str
    receiver: str | None
    ended_by: str
    sent_back_reason: str
    timeliness: Timeliness | None


class DossierView(BaseModel):
    """A dossier as staff see it."""

    code: str = Field(examples=[CODE_EXAMPLE])
    state: DossierState
    status_code: int = Field(description="National portal status code 1-10.", examples=[2])
    procedure_code: str = Field(examples=["1.001193"])
    unit_code: str = Field(examples=["000.21.39.H39"], description="The unit that received "
                           "the dossier (a transfer never changes it).")
    holding_unit_code: str = Field(
        examples=["000.21.39.H39"], description="The unit that holds the dossier now: the "
        "receiving unit unless it was transferred (`POST /v1/dossiers/{code}/transfer`).")
    transfer_return_by: datetime | None = Field(
        default=None, description="While another unit holds the dossier: the last moment it "
        "may return it as unfit (02 working days; Đồng Tháp 138/2025/QĐ-UBND art. 3(4)(a)). "
        "A later return is accepted and recorded as late.")
    channel: Channel
    applicant_name: str = Field(examples=["Nguyễn Văn An"])
    received_at: datetime | None = Field(description="The receipt (for an online submission: "
                                         "its acceptance); null while awaiting acceptance.")
    due_at: datetime | None
    assignee: str | None
    submitted_at: datetime | None = Field(
        default=None, description="Online submissions: when the citizen submitted.")
    counted_from: datetime | None = Field(
        default=None, description="Online submissions: the instant the processing time counts "
        "from, the complete submission (the submission, or the intake supplement that "
        "completed it; Decree 297/2025 art. 3(5), 6(4)(a)); day one is the next working day.")
    sla: SlaView
    timeliness: Timeliness | None
    satisfaction: Satisfaction | None
    outcome_reason: str | None
    version: int = Field(description="Stream position of the last event.")
    timeline: list[TimelineEntry]
    steps: list[StepView] = Field(default_factory=list, description="The internal "
                                  "procedure's steps; empty for a procedure without one.")
    current_step: int | None = Field(default=None, description="0-based index of the step "
                                     "the dossier is at; null without steps or once done.")
    step_runs: list[StepRunView] = Field(default_factory=list)


class ReceiptView(DossierView):
    """The dossier as received (201), or as accepted from an online submission, with the
    citizen's lookup secret: issued once, here, and never shown again (only its hash is kept;
    `motcua.lookup`). Print it on the receipt now; a lost one is replaced with
    `POST /v1/dossiers/{code}/lookup-secret`."""

    lookup_secret: str | None = Field(
        default=None, examples=["7K3M-9QPR-2XWD"],
        description="The secret the citizen's lookup needs, as printed (`XXXX-XXXX-XXXX`). "
        "Also in an idempotent replay when the server seals stored answers "
        "(MOTCUA_PAYLOAD_KEYS); null in a replay without keys, where it is not kept.")
    lookup_url: str | None = Field(
        default=None, description="The citizen's lookup page with code and secret in the "
        "fragment, for the receipt's QR code.")


class LookupSecretView(BaseModel):
    """A new lookup secret for a dossier (the earlier one no longer opens it)."""

    code: str = Field(examples=[CODE_EXAMPLE])
    lookup_secret: str | None = Field(examples=["7K3M-9QPR-2XWD"])
    lookup_url: str | None


class DossierSummary(BaseModel):
    """One row of a dossier list (from the read model)."""

    code: str = Field(examples=[CODE_EXAMPLE])
    state: str = Field(examples=["received"])
    status_code: int
    sla_status: str = Field(examples=["on_track"])
    unit_code: str
    holding_unit_code: str = Field(description="The unit holding the dossier now.")
    procedure_code: str
    channel: str
    assignee: str | None
    received_at: datetime
    due_at: datetime | None


class DossierPage(BaseModel):
    """A page of dossiers ordered by due time, then code."""

    items: list[DossierSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at "
                                    "the end.")


class PublicDossierView(BaseModel):
    """What a citizen sees by dossier code: no personal data."""

    code: str = Field(examples=[CODE_EXAMPLE])
    state: DossierState
    status_code: int
    procedure_code: str
    procedure_name: str | None
    unit_name: str | None
    received_on: date | None = Field(description="The office date of receipt (not the time: "
                                     "the exact moment says more than a citizen needs).")
    due_at: datetime | None
    sla_status: SlaStatus
    next_step: str = Field(examples=["Hồ sơ đang được xử lý."])
    legal_due_at: datetime | None = Field(
        default=None, description="The due time set by law for this dossier (without an "
        "apology's new appointment).")
    appointment_at: datetime | None = Field(
        default=None, description="The new appointment given with a letter of apology, if any.")
    rule_name: str = Field(default="", description="How the due time was counted, e.g. "
                           "civil_code/working_days@v2.")
    rule_source: str = Field(default="", description="The legal texts of that rule.")
    rated: bool = Field(default=False, description="The citizen has rated the service.")
    electronic_result: bool = Field(
        default=False, description="A signed electronic result is on file: "
        "`GET /v1/public/dossiers/{code}/result` returns it (issue 26).")
    may_rate: bool = Field(default=False, description="Returned, not rated, and within the "
                           "rating window: `POST /v1/public/dossiers/{code}/rating` is open.")


NEXT_STEP: dict[DossierState, str] = {
    DossierState.SUBMITTED: "Hồ sơ nộp trực tuyến đang chờ tiếp nhận.",
    DossierState.AWAITING_INTAKE_SUPPLEMENT:
        "Vui lòng bổ sung hồ sơ theo hướng dẫn; thời hạn giải quyết được tính lại từ khi "
        "nhận đủ hồ sơ.",
    DossierState.REFUSED_AT_INTAKE: "Hồ sơ không được tiếp nhận; xem lý do trong thông báo.",
    DossierState.RECEIVED: "Hồ sơ đã được tiếp nhận và đang chờ phân công xử lý.",
    DossierState.ASSIGNED: "Hồ sơ đã được chuyển đến cán bộ xử lý.",
    DossierState.PROCESSING: "Hồ sơ đang được xử lý.",
    DossierState.AWAITING_SUPPLEMENT:
        "Vui lòng bổ sung giấy tờ theo yêu cầu của cơ quan giải quyết.",
    DossierState.AWAITING_PAYMENT:
        "Vui lòng thực hiện nghĩa vụ tài chính theo thông báo; thời gian chờ không tính vào "
        "thời hạn giải quyết.",
    DossierState.READY: "Đã có kết quả. Mời ông/bà đến nhận kết quả theo giấy hẹn.",
    DossierState.RETURNED: "Đã trả kết quả. Mời ông/bà đánh giá mức độ hài lòng.",
    DossierState.REFUSED: "Hồ sơ không được giải quyết; xem văn bản trả lời của cơ quan.",
    DossierState.WITHDRAWN: "Hồ sơ đã được rút theo yêu cầu.",
    DossierState.STOPPED: "Việc giải quyết hồ sơ đã dừng; xem văn bản thông báo.",
}


def timeline(events: list[EventEnvelope],
             deliveries: Sequence[Delivery] = ()) -> list[TimelineEntry]:
    """The stored events, each alert followed by the outcome of its notification (read from
    the dispatcher's table, as `NotificationSent` / `NotificationFailed` entries at the
    alert's position, actor `dispatcher`; a notification still being tried shows nothing)."""
    entries = [TimelineEntry(position=e.position, event_type=e.event_type, at=e.recorded_at,
                             actor=e.metadata.get("actor"),
                             correlation_id=e.metadata.get("correlation_id"), data=e.payload)
               for e in events]
    # A notice whose delivery is recorded as a `NoticeDelivered` event (issue 25) shows as
    # that event, not twice; failed, skipped and not yet recorded ones show from the table.
    recorded = {e.payload.get("delivery_id") for e in events
                if e.event_type == "NoticeDelivered"}
    finished = [d for d in deliveries if d.finished_at is not None and (
        d.destination == "webhook" or d.key not in recorded)]
    if not finished:
        return entries
    entries += [_delivery_entry(d) for d in finished]
    return sorted(entries, key=lambda t: (t.position, t.actor == DISPATCHER))


DISPATCHER = "dispatcher"


_NOTICE_ENTRY = {"delivered": "NoticeSent", "failed": "NoticeFailed", "disabled": "NoticeSkipped"}


def _delivery_entry(d: Delivery) -> TimelineEntry:
    assert d.finished_at is not None
    if d.destination != "webhook":
        # A citizen's notice (issue 25): its kind and channel, never its text or address.
        notice: dict[str, Any] = {"at": d.finished_at.isoformat(), "kind": d.kind,
                                  "channel": d.destination, "attempts": d.attempts,
                                  "status": d.status}
        if d.status == "failed":
            notice["error"] = d.last_error or ""
        return TimelineEntry(position=d.alert_position,
                             event_type=_NOTICE_ENTRY.get(d.status, "NoticeSent"),
                             at=d.finished_at, actor=DISPATCHER,
                             correlation_id=None, data=notice)
    data: dict[str, Any] = {"at": d.finished_at.isoformat(), "kind": d.kind,
                            "alert_event_id": d.alert_event_id, "attempts": d.attempts}
    if d.status == "failed":
        data["error"] = d.last_error or ""
    return TimelineEntry(position=d.alert_position,
                         event_type="NotificationFailed" if d.status == "failed"
                         else "NotificationSent",
                         at=d.finished_at, actor=DISPATCHER, correlation_id=None, data=data)


def dossier_view(d: Dossier, events: list[EventEnvelope],
                 now: datetime | None = None,
                 deliveries: Sequence[Delivery] = ()) -> DossierView:
    """The staff view of `d` with the timeline of `events` (and of their alerts'
    `deliveries`, `motcua.eventstore.outbox.deliveries`)."""
    assert d.state is not None, "a dossier view needs a received dossier"
    now = now or datetime.now(UTC)
    return DossierView(
        code=d.code, state=d.state, status_code=d.state.status_code,
        procedure_code=d.procedure_code, unit_code=d.unit_code,
        holding_unit_code=d.holding_unit_code, transfer_return_by=d.transfer_return_by,
        channel=d.channel,
        applicant_name=d.applicant_name, received_at=d.received_at, due_at=d.due_at,
        assignee=d.assignee, submitted_at=d.submitted_at, counted_from=d.counted_from,
        sla=SlaView(status=d.sla_status(now), due_at=d.due_at, due_soon_at=d.due_soon_at,
                    original_due_at=d.original_due_at, extended=d.extended,
                    supplement_requests=d.supplement_requests,
                    deadline_version=d.deadline_version, calendar_version=d.calendar_version,
                    catalog_version=d.catalog_version, rule=d.deadline_rule,
                    rule_name=d.counting_rule[0], rule_source=d.counting_rule[1],
                    legal_due_at=d.judged_due_at, appointment_at=d.appointment_at,
                    apology_in_time=d.apology_in_time,
                    apology_delivered_at=d.apology_delivered_at),
        timeliness=d.timeliness, satisfaction=d.satisfaction, outcome_reason=d.outcome_reason,
        version=d.version, timeline=timeline(events, deliveries),
        steps=step_views(d), current_step=d.current_step,
        step_runs=[StepRunView(step=r.step, started_at=r.started_at, due_at=r.due_at,
                               ended_at=r.ended_at, outcome=r.outcome, giver=r.giver,
                               receiver=r.receiver, ended_by=r.ended_by,
                               sent_back_reason=r.sent_back_reason,
                               timeliness=walk.verdict(r)) for r in d.step_runs])


def step_views(d: Dossier) -> list[StepView]:
    """Each step of `d`'s plan with its latest run (none before it starts)."""
    if d.step_plan is None:
        return []
    latest = {r.step: r for r in d.step_runs}
    counts = Counter(r.step for r in d.step_runs)
    out = []
    for i, s in enumerate(d.step_plan.steps):
        r = latest.get(i)
        out.append(StepView(
            name=s.name, role=s.role, actor=s.actor, unit_code=s.unit_code,
            allowance_hours=s.allowance_hours, started_at=r.started_at if r else None,
            due_at=r.due_at if r else None, ended_at=r.ended_at if r else None,
            timeliness=walk.verdict(r) if r else None, receiver=r.receiver if r else None,
            runs=counts[i]))
    return out


def public_view(d: Dossier, catalog: Catalog, now: datetime | None = None,
                tz: tzinfo | None = None, *, electronic_result: bool = False) -> PublicDossierView:
    """The citizen's view of `d`, with the receipt date in the office time zone `tz`
    (`calendar.tz`; default: the domain's default office zone)."""
    tz = tz or office_zone()
    assert d.state is not None, "a public view needs a received dossier"
    procedure = catalog.procedures.get(d.procedure_code)
    unit = catalog.units.get(d.unit_code)
    now = now or datetime.now(UTC)
    may_rate = d.state is DossierState.RETURNED and not d.ended(now)
    next_step = NEXT_STEP[d.state]
    if d.state is DossierState.RETURNED and not may_rate:  # rated, or the window has passed
        next_step = ("Đã trả kết quả. Cảm ơn ông/bà đã đánh giá." if d.satisfaction
                     else "Đã trả kết quả.")
    return PublicDossierView(
        code=d.code, state=d.state, status_code=d.state.status_code,
        procedure_code=d.procedure_code, procedure_name=procedure.name if procedure else None,
        unit_name=unit.name if unit else None,
        received_on=d.received_at.astimezone(tz).date() if d.received_at else None,
        due_at=d.due_at,
        sla_status=d.sla_status(now), next_step=next_step,
        rule_name=d.counting_rule[0], rule_source=d.counting_rule[1],
        legal_due_at=d.judged_due_at, appointment_at=d.appointment_at,
        rated=d.satisfaction is not None, may_rate=may_rate,
        electronic_result=electronic_result and d.state in (DossierState.READY,
                                                            DossierState.RETURNED))


def summary(row: Any) -> DossierSummary:
    """A list row from a `dossiers` read-model record."""
    return DossierSummary(
        code=row["code"], state=row["state"], status_code=row["status_code"],
        sla_status=row["sla_status"], unit_code=row["unit_code"],
        # Lists that do not select it (and rows written without it): the receiving unit.
        holding_unit_code=row.get("holding_unit_code") or row["unit_code"],
        procedure_code=row["procedure_code"], channel=row["channel"], assignee=row["assignee"],
        received_at=row["received_at"], due_at=row["due_at"])
