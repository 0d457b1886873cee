"""The dossier's state and `evolve(state, event) -> state` (a pure fold over its events)."""

# No `from __future__ import annotations`: Temporal's converter resolves these dataclasses'
# type hints inside the workflow sandbox, where string annotations cannot be evaluated.
import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from domain import events as ev
from domain import walk
from domain.clock import RULE_VERSION, rule_name, rule_source, timeliness
from domain.contracts import Pause
from domain.due import judged_due, status_at
from domain.envelope import EventEnvelope
from domain.states import (
    BEFORE_ACCEPTANCE_STATES,
    PAUSED_STATES,
    SLA_CLOSED_STATES,
    AlertKind,
    Channel,
    DossierState,
    Satisfaction,
    SlaStatus,
    Timeliness,
)

# A returned dossier stays open this long for the citizen's rating; then its life ends.
RATING_WINDOW = timedelta(days=30)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Dossier:
    """Everything the engine knows about one dossier. `version` is the stream position of the
    last event folded in (0 before receipt)."""

    code: str = ""
    state: DossierState | None = None
    version: int = 0
    unit_code: str = ""
    procedure_code: str = ""
    channel: Channel = Channel.COUNTER
    applicant_name: str = ""
    # The receipt (acceptance, for an online submission): None while a submission awaits
    # acceptance, so reports do not count it as received.
    received_at: datetime | None = None
    # Online intake (patch `online-intake-v1`): when the citizen submitted, and the instant the
    # processing time counts from once accepted: the complete dossier's arrival (the
    # submission, or the intake supplement that completed it; Decree 297/2025 art. 3(5),
    # 6(4)(a)). None for a dossier received directly: its time counts from `received_at`.
    submitted_at: datetime | None = None
    counted_from: datetime | None = None
    intake_supplement_requests: int = 0
    assignee: str | None = None
    # The deadline in force (what the citizen is told: after an apology, the new appointment
    # and the pauses since), and the one first given on the receipt (before any pause).
    due_at: datetime | None = None
    due_soon_at: datetime | None = None
    original_due_at: datetime | None = None
    # The due time WITHOUT the apology's extension: the receipt's time with supplement pauses
    # and calendar corrections. Timeliness (Biểu 06, Decision 766 item 2.1) is judged against
    # it, and the overdue alert fires at it (issue 11 point 5). Equal to `due_at` until an
    # apology gives a new appointment.
    legal_due_at: datetime | None = None
    deadline_version: int = 0
    deadline_rule: str = ""
    # The counting rule's version of the receipt deadline (kept by every recomputation, so due
    # times given under rule v1 stay as given) and the texts of the deadline in force.
    rule_version: int = 0
    deadline_rule_source: str = ""
    deadline_unit: str = ""
    calendar_version: str = ""
    catalog_version: str = ""
    # Alerts already raised, as the deadline version they were raised for (0 = never).
    due_soon_raised_for: int = 0
    overdue_raised_for: int = 0
    overdue_without_apology_raised_for: int = 0
    # The due instants the overdue alerts were raised for (legal due; new appointment), so each
    # fires once per instant whatever the deadline version (apology branch of `pending_alert`).
    overdue_raised_due: datetime | None = None
    overdue_without_apology_raised_due: datetime | None = None
    appointment_overdue_raised_due: datetime | None = None
    # Supplement loop: the clock stops while the citizen gathers papers.
    paused_at: datetime | None = None
    resume_state: DossierState | None = None
    pauses: tuple[Pause, ...] = ()
    supplement_requests: int = 0
    late_by_supplement: bool = False
    extended: bool = False
    extended_at: datetime | None = None
    extended_due_at: datetime | None = None
    # The apology was sent by the last moment (one working day before the due time); a late
    # one is accepted and flagged (issue 11 point 5).
    apology_in_time: bool | None = None
    finished_at: datetime | None = None
    closed_at: datetime | None = None
    timeliness: Timeliness | None = None
    satisfaction: Satisfaction | None = None
    # Verification needed: the due time is the procedure's longer maximum (issue 11 point 4).
    verification_required: bool = False
    # Complaints and recommendations recorded about it (Decision 766 item 5.4).
    complaints: int = 0
    outcome_reason: str | None = None
    # The internal procedure it walks (issue 22 item 2; `domain.walk`), None for a procedure
    # without one, and every run of a step so far.
    step_plan: walk.StepPlan | None = None
    step_runs: tuple[walk.StepRecord, ...] = ()

    @property
    def current_step(self) -> int | None:
        """The 0-based index of the step the dossier is at, or None."""
        return walk.current_step(self.step_runs)

    def pending_step_alert(self) -> tuple[AlertKind, datetime] | None:
        """The open step's next alert, while the dossier's clock runs (or its result waits
        at the counter, where the return step still runs)."""
        if self.step_plan is None or not (self.clock_running or self.state is DossierState.READY):
            return None
        return walk.pending_alert(self.step_runs)
    # Transfers between units (issue 22 item 3): the unit holding the dossier now ("": the
    # receiving unit, `unit_code`), the units it came through (the last is where a returned
    # dossier goes back to), and the last moment the holder may return it as unfit.
    holding_unit: str = ""
    transferred_from: tuple[str, ...] = ()
    transfer_return_by: datetime | None = None
    transfers: int = 0
    # The wait for fees and taxes (national code 6) and the fee paid at the counter (VND).
    payment_requests: int = 0
    payment_notice: str | None = None
    fees_paid: int = 0
    # Citizens' notices (issue 25): the channels chosen at intake (none: the citizen declined),
    # the deliveries recorded (`NoticeDelivered.delivery_id`, so each is recorded once) and
    # when the apology's notice (kind `extension`) first reached a channel (earliest).
    notify_by: tuple[str, ...] = ()
    notices_delivered: tuple[str, ...] = ()
    apology_delivered_at: datetime | None = None

    @property
    def apology_reached_citizen(self) -> bool:
        """The apology counts for the overdue-without-apology alert (docs/portal-and-notices.md,
        "The apology and the overdue-without-apology alert"): it was recorded
        (`DeadlineExtended`), and, when the citizen chose a channel at intake, its notice was
        delivered on one (`NoticeDelivered` of kind `extension`). A citizen who chose none
        gets the letter by hand or post (form 04), so the recorded apology counts: our
        reading."""
        return self.extended and (not self.notify_by or self.apology_delivered_at is not None)

    @property
    def state_name(self) -> str:
        """The state's name, or `none` before receipt (for error details)."""
        return self.state.value if self.state is not None else "none"

    @property
    def holding_unit_code(self) -> str:
        """The unit that holds the dossier now: the receiving unit unless it was transferred."""
        return self.holding_unit or self.unit_code

    @property
    def is_open(self) -> bool:
        """Received and not yet returned, refused, withdrawn or stopped."""
        return self.state is not None and not self.state.is_terminal

    @property
    def clock_running(self) -> bool:
        """The deadline clock runs: open, not paused, result not yet ready."""
        return (self.state is not None and self.state not in SLA_CLOSED_STATES
                and self.state not in PAUSED_STATES
                and self.state not in BEFORE_ACCEPTANCE_STATES)

    @property
    def period_start(self) -> datetime | None:
        """The instant the processing time is counted from: the complete online submission
        (`counted_from`) once accepted, else the receipt."""
        return self.counted_from or self.received_at

    @property
    def appointment_at(self) -> datetime | None:
        """The new appointment given with the apology (with the pauses since), shown apart from
        the legal due time; None without an apology."""
        return self.due_at if self.extended else None

    @property
    def judged_due_at(self) -> datetime | None:
        """The due time timeliness is judged against: the legal one (never the apology's)."""
        return judged_due(self.legal_due_at, self.due_at)

    def verdict_at(self, finished_at: datetime) -> Timeliness:
        """Biểu 06 verdict if processing ends at `finished_at` (result ready, refusal,
        withdrawal, stop): late once Decision 766's second supplement request flagged it, on
        time without a due time, otherwise `domain.clock.timeliness` against `judged_due_at`
        in the zone the due time was recorded with (the office's). An apology's new
        appointment does not make a late dossier on time (Lai Châu 88/2025/QĐ-UBND: still
        "quá hạn"; issue 11 point 5)."""
        if self.late_by_supplement:
            return Timeliness.LATE
        due = self.judged_due_at
        if due is None:
            return Timeliness.ON_TIME
        return timeliness(due.tzinfo or UTC, finished_at, due)

    def sla_status(self, now: datetime) -> SlaStatus:
        """Where the dossier stands against its due time at `now` (overdue from the legal due
        time, even with an apology's new appointment)."""
        return status_at(self.state, self.judged_due_at, self.due_soon_at, now)

    def ended(self, now: datetime) -> bool:
        """The dossier's life is over at `now`: refused, withdrawn or stopped, or returned and
        either rated or past its `RATING_WINDOW`. Its workflow ends then, and any command
        sent after is refused (`decide.no_more_commands`)."""
        if self.state is DossierState.RETURNED:
            return self.satisfaction is not None or (
                self.closed_at is not None and now >= self.closed_at + RATING_WINDOW)
        return self.state is not None and self.state.is_terminal

    def recorded_sla_status(self) -> SlaStatus:
        """The SLA status as the events say, without a clock (the read models' stored
        `sla_status`): due soon / overdue once their alert was raised for the deadline in
        force. It lags the clock by the timer backlog, so no view shows it: views judge with
        `sla_status(now)` (`domain.due`), issue 27 item 1."""
        status = self.sla_status(datetime.min.replace(tzinfo=UTC))
        if status is not SlaStatus.ON_TRACK:
            return status
        if self.overdue_raised_for >= self.deadline_version > 0:
            return SlaStatus.OVERDUE
        if self.due_soon_raised_for >= self.deadline_version > 0:
            return SlaStatus.DUE_SOON
        return SlaStatus.ON_TRACK

    @property
    def counting_rule(self) -> tuple[str, str]:
        """The counting rule of the deadline in force, as (name, legal source) for receipts and
        views; empty strings before the first due time."""
        if not self.deadline_rule or not self.deadline_unit:
            return "", ""
        version = self.counting_rule_version or RULE_VERSION
        name = rule_name(self.deadline_rule, self.deadline_unit, version)
        return name, self.deadline_rule_source or rule_source(
            self.deadline_rule, self.deadline_unit, version)

    @property
    def counting_rule_version(self) -> int | None:
        """The rule version a recomputation must use: the receipt's; 1 for a state carried
        over from before the field existed but already given a due time; None before the
        first due time (use the rule in force)."""
        if self.rule_version:
            return self.rule_version
        return 1 if self.deadline_version else None

    def pending_alert(self, legal_due: bool = False) -> tuple[AlertKind, datetime] | None:
        """The next deadline alert still to raise, and its instant.

        With `legal_due` (workflows since patch `apology-legal-due-v1`): the earliest of due
        soon (deadline in force), overdue and overdue-without-apology at the LEGAL due time,
        each once per due instant, and appointment-overdue at the apology's new appointment.
        Without it, the first release's rule (all at the deadline in force, once per version),
        kept for the histories recorded under it.
        """
        if not self.clock_running or self.due_at is None or self.due_soon_at is None:
            return None
        if legal_due:
            return self._pending_alert_legal(self.due_at, self.due_soon_at)
        v = self.deadline_version
        if self.due_soon_raised_for < v and self.due_soon_at < self.due_at:
            return AlertKind.DUE_SOON, self.due_soon_at
        if self.overdue_raised_for < v:
            return AlertKind.OVERDUE, self.due_at
        if self.overdue_without_apology_raised_for < v and not self.extended:
            return AlertKind.OVERDUE_WITHOUT_APOLOGY, self.due_at
        return None

    def _pending_alert_legal(self, due: datetime,
                             soon: datetime) -> tuple[AlertKind, datetime] | None:
        legal = self.legal_due_at or due
        candidates: list[tuple[AlertKind, datetime]] = []
        if self.due_soon_raised_for < self.deadline_version and soon < due:
            candidates.append((AlertKind.DUE_SOON, soon))
        if self.overdue_raised_due != legal:
            candidates.append((AlertKind.OVERDUE, legal))
        if self.overdue_without_apology_raised_due != legal and not self.extended:
            candidates.append((AlertKind.OVERDUE_WITHOUT_APOLOGY, legal))
        if self.extended and self.appointment_overdue_raised_due != due:
            candidates.append((AlertKind.APPOINTMENT_OVERDUE, due))
        # The earliest first (an apology's due-soon may come after the legal due time); at the
        # same instant, in the order above.
        return min(candidates, key=lambda c: c[1], default=None)

    def alert_due(self, kind: AlertKind, legal_due: bool) -> datetime | None:
        """The due instant an alert of `kind` is about (recorded on its event)."""
        if not legal_due or kind in (AlertKind.DUE_SOON, AlertKind.APPOINTMENT_OVERDUE):
            return self.due_at
        return judged_due(self.legal_due_at, self.due_at)


def evolve(state: Dossier, event: ev.Event) -> Dossier:
    """The state after `event`. Total over the event types; never raises for a valid stream."""
    s = dataclasses.replace(state, version=state.version + 1)
    match event:
        case ev.DossierReceived():
            return dataclasses.replace(
                s, code=event.code, state=DossierState.RECEIVED, unit_code=event.unit_code,
                procedure_code=event.procedure_code, channel=event.channel,
                applicant_name=event.applicant_name, notify_by=tuple(event.notify_by),
                received_at=event.original_received_at or event.at)
        case ev.DossierSubmitted():
            return dataclasses.replace(
                s, code=event.code, state=DossierState.SUBMITTED, unit_code=event.unit_code,
                procedure_code=event.procedure_code, channel=event.channel,
                applicant_name=event.applicant_name, submitted_at=event.at,
                counted_from=event.at, notify_by=tuple(event.notify_by))
        case ev.IntakeSupplementRequested():
            return dataclasses.replace(
                s, state=DossierState.AWAITING_INTAKE_SUPPLEMENT,
                intake_supplement_requests=s.intake_supplement_requests + 1)
        case ev.IntakeSupplementReceived():
            # Decree 297/2025 art. 6(4)(a): "tính lại từ đầu sau khi nhận đủ hồ sơ" - the
            # period restarts from the complete dossier; nothing is paused.
            return dataclasses.replace(s, state=DossierState.SUBMITTED, counted_from=event.at)
        case ev.SubmissionAccepted():
            return dataclasses.replace(s, state=DossierState.RECEIVED, received_at=event.at,
                                       counted_from=event.counted_from)
        case ev.SubmissionRefused():
            return _close(s, DossierState.REFUSED_AT_INTAKE, event.at, event.reason)
        case ev.DeadlineSet():
            # Deadlines set before issue 11 carry no legal due: it is their due time, except
            # after an apology (the extension's, or a later one's), where it stays as it was.
            legal = event.legal_due_at if event.legal_due_at is not None else (
                s.legal_due_at if (event.reason == "extension" or s.extended) else event.due_at)
            return dataclasses.replace(
                s, due_at=event.due_at, due_soon_at=event.due_soon_at, legal_due_at=legal,
                original_due_at=s.original_due_at or event.due_at,
                deadline_version=event.version, deadline_rule=event.rule,
                rule_version=s.rule_version or event.rule_version,
                deadline_rule_source=event.rule_source, deadline_unit=event.unit,
                calendar_version=event.calendar_version, catalog_version=event.catalog_version)
        case ev.OfficerAssigned():
            keep = s.state in (DossierState.PROCESSING, *PAUSED_STATES)
            return dataclasses.replace(
                s, assignee=event.officer,
                state=s.state if keep else DossierState.ASSIGNED)
        case ev.ProcessingStarted():
            return dataclasses.replace(s, state=DossierState.PROCESSING, assignee=event.officer)
        case ev.SupplementRequested():
            return dataclasses.replace(
                s, state=DossierState.AWAITING_SUPPLEMENT, resume_state=s.state,
                paused_at=event.at, supplement_requests=s.supplement_requests + 1,
                late_by_supplement=s.late_by_supplement or event.counts_as_late)
        case ev.SupplementReceived():
            pause = Pause(start=s.paused_at or event.at, end=event.at)
            return dataclasses.replace(
                s, state=s.resume_state or DossierState.RECEIVED, resume_state=None,
                paused_at=None, pauses=(*s.pauses, pause))
        case ev.ResultReady():
            return dataclasses.replace(s, state=DossierState.READY, finished_at=event.at,
                                       timeliness=event.timeliness)
        case ev.ResultReturned():
            return dataclasses.replace(s, state=DossierState.RETURNED, closed_at=event.at,
                                       timeliness=event.timeliness)
        case ev.DossierRefused():
            return _close(s, DossierState.REFUSED, event.at, event.reason)
        case ev.DossierWithdrawn():
            # Decision 766 as written: a withdrawal ("Công dân yêu cầu rút hồ sơ") is an end of
            # processing judged like any other, end <= appointment (issue 11 point 6; the first
            # release counted every withdrawal on time).
            # A submission withdrawn before acceptance was never received: no verdict.
            return dataclasses.replace(_close(s, DossierState.WITHDRAWN, event.at, event.reason),
                                       timeliness=s.verdict_at(event.at)
                                       if s.received_at is not None else None)
        case ev.ProcessingStopped():
            return _close(s, DossierState.STOPPED, event.at, event.reason)
        case ev.DeadlineExtended():
            return dataclasses.replace(s, extended=True, extended_at=event.at,
                                       extended_due_at=event.new_due_at,
                                       apology_in_time=event.in_time)
        case ev.VerificationRequired():
            return dataclasses.replace(s, verification_required=True)
        case ev.ComplaintRecorded():
            return dataclasses.replace(s, complaints=s.complaints + 1)
        case ev.ServiceRated():
            return dataclasses.replace(s, satisfaction=event.satisfaction)
        case ev.DeadlineAlertRaised():
            return _raise_alert(s, event)
        case ev.NotificationSent() | ev.NotificationFailed() | ev.FileAttached():
            return s
        case ev.NoticeDelivered():
            # The apology reached the citizen at its earliest delivery on any channel.
            first = s.apology_delivered_at
            if event.kind == "extension" and (first is None or event.delivered_at < first):
                first = event.delivered_at
            return dataclasses.replace(
                s, notices_delivered=(*s.notices_delivered, event.delivery_id),
                apology_delivered_at=first)
        case ev.StepsBegun() | ev.StepHandedOver() | ev.StepSentBack() | ev.StepDueSet() | \
                ev.StepAlertRaised():
            return _walk(s, event)
        case ev.DossierTransferred() | ev.TransferReturned() | ev.ResultSentBack() | \
                ev.PaymentRequested() | ev.PaymentReceived() | ev.FeeRecorded():
            return evolve_transfer_or_payment(s, event)
    raise ValueError(f"evolve does not know {type(event).__name__}")


def fold(events: list[ev.Event], state: Dossier | None = None) -> Dossier:
    """The state after all `events`, starting from `state` (or an empty dossier)."""
    result = state or Dossier()
    for event in events:
        result = evolve(result, event)
    return result


def folded(stream: Sequence[EventEnvelope]) -> Dossier:
    """The dossier's state from its stored events (a stream as the event store reads it), with
    no Temporal call: what every read of one dossier starts from."""
    return fold([e.event for e in stream])


def evolve_transfer_or_payment(s: Dossier, event: ev.Event) -> Dossier:
    """`evolve` for the transfer and payment events (issue 22 items 3 and 4)."""
    match event:
        case ev.DossierTransferred():
            # The new unit's leader assigns one of its officers: the old assignee is cleared,
            # the state kept (a dossier in processing stays in processing, national code 4).
            return dataclasses.replace(
                s, holding_unit=event.to_unit, assignee=None,
                transferred_from=(*s.transferred_from, event.from_unit),
                transfer_return_by=event.return_by, transfers=s.transfers + 1)
        case ev.TransferReturned():
            return dataclasses.replace(
                s, holding_unit=event.to_unit, assignee=None,
                transferred_from=s.transferred_from[:-1], transfer_return_by=None)
        case ev.ResultSentBack():
            return dataclasses.replace(s, holding_unit=event.to_unit, transferred_from=(),
                                       transfer_return_by=None)
        case ev.PaymentRequested():
            return dataclasses.replace(
                s, state=DossierState.AWAITING_PAYMENT, resume_state=s.state,
                paused_at=event.at, payment_requests=s.payment_requests + 1,
                payment_notice=event.notice)
        case ev.PaymentReceived():
            # The same pause as a supplement's: its office time is added back to the due time
            # (domain.deadlines.compute), and the dossier resumes where it was.
            pause = Pause(start=s.paused_at or event.at, end=event.at)
            return dataclasses.replace(
                s, state=s.resume_state or DossierState.RECEIVED, resume_state=None,
                paused_at=None, pauses=(*s.pauses, pause))
        case ev.FeeRecorded():
            return dataclasses.replace(s, fees_paid=s.fees_paid + event.amount)
    raise ValueError(f"evolve does not know {type(event).__name__}")


def _close(s: Dossier, state: DossierState, at: datetime, reason: str) -> Dossier:
    return dataclasses.replace(s, state=state, closed_at=at, finished_at=s.finished_at or at,
                               outcome_reason=reason, paused_at=None, resume_state=None)


def _raise_alert(s: Dossier, event: ev.DeadlineAlertRaised) -> Dossier:
    v = event.deadline_version
    if event.kind is AlertKind.DUE_SOON:
        return dataclasses.replace(s, due_soon_raised_for=v)
    if event.kind is AlertKind.OVERDUE:
        return dataclasses.replace(s, overdue_raised_for=v, overdue_raised_due=event.due_at)
    if event.kind is AlertKind.APPOINTMENT_OVERDUE:
        return dataclasses.replace(s, appointment_overdue_raised_due=event.due_at)
    return dataclasses.replace(s, overdue_without_apology_raised_for=v,
                               overdue_without_apology_raised_due=event.due_at)


def _walk(s: Dossier, event: ev.Event) -> Dossier:
    runs = s.step_runs
    match event:
        case ev.StepsBegun():
            plan = walk.StepPlan(version=event.version, day_hours=event.day_hours,
                                 carry_over=event.carry_over, steps=event.steps)
            return dataclasses.replace(s, step_plan=plan, step_runs=walk.start(
                (), 0, event.started_at, event.giver))
        case ev.StepHandedOver():
            runs = walk.end(runs, event.at, event.giver, walk.HANDED_OVER)
            if event.to_step is not None:
                runs = walk.start(runs, event.to_step, event.at, event.giver, event.receiver)
        case ev.StepSentBack():
            runs = walk.start(walk.end(runs, event.at, event.by, walk.SENT_BACK, event.reason),
                              event.to_step, event.at, event.by)
        case ev.StepDueSet():
            runs = walk.set_due(runs, event.due_at, event.due_soon_at, event.credit_seconds)
        case ev.StepAlertRaised():
            runs = walk.raise_alert(runs, event.kind)
    return dataclasses.replace(s, step_runs=runs)
