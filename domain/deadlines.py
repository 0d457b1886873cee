"""When a dossier is given a new due time, and how that due time is worked out.

Pure: the workflow asks `deadline_reason` after each decision; the deadline activity runs
`compute` with the calendar and catalog its worker holds (its result is recorded in the
workflow's history, so a due time once given never changes on replay).
"""

# No `from __future__ import annotations`: this module is imported inside the workflow sandbox
# with the rest of the domain, and is kept like its neighbours.
from collections.abc import Sequence
from datetime import datetime, timedelta

from domain import commands as cmd
from domain import events as ev
from domain.calendar import Calendar
from domain.catalog import Catalog, NoVerificationMaximum, TimeUnit
from domain.clock import (
    PAUSE_IN_WORKING_DAYS,
    RULE_VERSION,
    add_working_time,
    due_at,
    due_soon_at,
    pause_extension,
    rule_source,
    working_time_between,
)
from domain.contracts import DeadlineRequest, DeadlineResult, Pause
from domain.dossier import Dossier

# The events after which the citizen is given a new due time, and the reason recorded on it.
DEADLINE_REASONS: dict[type[ev.Event], str] = {
    ev.DossierReceived: "receipt",
    # An accepted online submission: its receipt deadline, counted from `counted_from`.
    ev.SubmissionAccepted: "receipt",
    ev.SupplementReceived: "supplement_received",
    ev.DeadlineExtended: "extension",
    ev.VerificationRequired: "verification",
    # The second appointment, counted from proof of payment (Đồng Tháp 138/2025/QĐ-UBND art.
    # 5(3)): the wait is a pause like a supplement's (`Dossier.pauses`).
    ev.PaymentReceived: "payment_received",
}
CALENDAR_CORRECTION = "calendar_correction"


def deadline_reason(command: cmd.Command, events: Sequence[ev.Event]) -> str | None:
    """Why the events `command` caused call for a new due time, or None if they do not.

    A calendar correction always recomputes, although it causes no event of its own: the
    `SetDeadline` that follows records nothing when the due time did not change.
    """
    if isinstance(command, cmd.CorrectCalendar):
        return CALENDAR_CORRECTION
    return next((DEADLINE_REASONS[type(e)] for e in events if type(e) in DEADLINE_REASONS),
                None)


def request_for(state: Dossier) -> DeadlineRequest:
    """What the workflow asks the deadline activity for `state`: the period counted from
    `Dossier.period_start` (the receipt, or an accepted online submission's complete arrival:
    Decree 297/2025 art. 3(5), 6(4)(a)), with the supplement pauses during processing, the
    apology's appointment and the verification maximum."""
    start = state.period_start
    if start is None:
        raise ValueError("no deadline before the dossier is received")
    return DeadlineRequest(
        procedure_code=state.procedure_code, received_at=start,
        pauses=list(state.pauses), extended_due_at=state.extended_due_at,
        extended_at=state.extended_at,
        # A recomputation keeps the counting rule of the receipt deadline.
        rule_version=state.counting_rule_version,
        verification=state.verification_required)


def _after_pauses(cal: Calendar, due: datetime, pauses: Sequence[Pause], unit: TimeUnit,
                  version: int) -> datetime:
    """`due` moved by the office time of `pauses`: before rule v3 pause by pause, to the
    microsecond (as those due times were given); from v3 their total, in whole working days for
    a day-based period (`domain.clock.pause_extension`)."""
    if version < PAUSE_IN_WORKING_DAYS:
        for pause in pauses:
            due = add_working_time(cal, due, working_time_between(cal, pause.start, pause.end))
        return due
    total = sum((working_time_between(cal, p.start, p.end) for p in pauses), timedelta(0))
    return pause_extension(cal, due, total, unit, version)


def compute(cal: Calendar, catalog: Catalog, request: DeadlineRequest) -> DeadlineResult:
    """The due time: the procedure's reduced time counted from the receipt, then the office
    time of every finished supplement pause added back. After an extension the leader's new
    appointment is the base instead, and only the pauses that began after the extension are
    added (those before it were already in the due time the appointment replaced).

    Raises `UnknownProcedure` for a procedure the catalog does not list and
    `DateOutsideCalendar` when the count leaves the calendar's years.
    """
    proc = catalog.procedure(request.procedure_code)
    # A dossier keeps the counting rule of its receipt deadline (domain.clock, rule versions).
    version = request.rule_version or RULE_VERSION
    # The legal due time: the receipt's time plus the office time of every pause. An apology
    # never moves it (timeliness is judged against it; issue 11 point 5).
    amount, unit = proc.reduced_amount, proc.reduced_unit
    if request.verification:  # the longer maximum "khi cần xác minh" (issue 11 point 4)
        if proc.verification_amount is None or proc.verification_unit is None:
            raise NoVerificationMaximum(
                f"procedure {proc.code} has no maximum for verification in the catalog")
        amount, unit = proc.verification_amount, proc.verification_unit
    legal = due_at(cal, request.received_at, amount, unit, proc.counting_rule,
                   rule_version=version)
    legal = _after_pauses(cal, legal, request.pauses, unit, version)
    if request.extended_due_at is not None:  # the appointment in force: the apology's
        since = [p for p in request.pauses
                 if request.extended_at is None or p.start >= request.extended_at]
        due = _after_pauses(cal, request.extended_due_at, since, unit, version)
    else:
        due = legal
    return DeadlineResult(
        due_at=due, due_soon_at=due_soon_at(cal, due, proc.due_soon_working_days),
        rule=proc.counting_rule.value, amount=amount, unit=unit.value,
        calendar_version=cal.version,
        catalog_version=catalog.version, rule_version=version, legal_due_at=legal,
        rule_source=rule_source(proc.counting_rule.value, unit.value, version))
