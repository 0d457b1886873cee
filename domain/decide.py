"""`decide(state, command, now) -> events`: the rules of the dossier lifecycle.

Pure: no I/O and no clock; the caller (the workflow) passes `now` from `workflow.now()`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from domain import commands as cmd
from domain import events as ev
from domain import walk
from domain.codes import is_valid_code
from domain.dossier import Dossier, evolve
from domain.errors import (
    AlreadyExtended,
    AlreadyRated,
    DomainError,
    InvalidCommand,
    InvalidTransition,
)
from domain.states import DossierState, Timeliness
from domain.transfers import (
    check_transferred,
    decide_receive_payment,
    decide_record_fee,
    decide_request_payment,
    decide_return_transfer,
    decide_transfer,
    result_sent_back,
    transfer,
)

S = DossierState
_OPEN_BEFORE_RESULT = (S.RECEIVED, S.ASSIGNED, S.PROCESSING, S.AWAITING_SUPPLEMENT,
                       S.AWAITING_PAYMENT)
_BEFORE_ACCEPTANCE = (S.SUBMITTED, S.AWAITING_INTAKE_SUPPLEMENT)

# Which states accept which command. Receipt and online submission are checked apart (they
# need an empty dossier).
ALLOWED: dict[type[cmd.Command], tuple[DossierState, ...]] = {
    # Online intake (patch `online-intake-v1`): only these, a withdrawal and a complaint are
    # accepted before acceptance; every processing command is refused (no due time yet).
    cmd.AcceptSubmission: (S.SUBMITTED,),
    cmd.RequestIntakeSupplement: (S.SUBMITTED,),
    cmd.ProvideIntakeSupplement: (S.AWAITING_INTAKE_SUPPLEMENT,),
    cmd.RefuseAtIntake: _BEFORE_ACCEPTANCE,
    cmd.AssignOfficer: _OPEN_BEFORE_RESULT,
    cmd.StartProcessing: (S.ASSIGNED,),
    cmd.RequestSupplement: (S.RECEIVED, S.ASSIGNED, S.PROCESSING),
    cmd.ProvideSupplement: (S.AWAITING_SUPPLEMENT,),
    cmd.CompleteProcessing: (S.PROCESSING,),
    cmd.ReturnResult: (S.READY,),
    cmd.RefuseDossier: _OPEN_BEFORE_RESULT,
    cmd.WithdrawDossier: (*_OPEN_BEFORE_RESULT, *_BEFORE_ACCEPTANCE),
    cmd.StopProcessing: _OPEN_BEFORE_RESULT,
    cmd.ExtendDeadline: (S.RECEIVED, S.ASSIGNED, S.PROCESSING),
    cmd.RateService: (S.RETURNED,),
    cmd.CorrectCalendar: _OPEN_BEFORE_RESULT,
    cmd.SetDeadline: _OPEN_BEFORE_RESULT,
    cmd.RaiseAlert: (S.RECEIVED, S.ASSIGNED, S.PROCESSING),
    cmd.RecordNotification: tuple(DossierState),
    # A notice delivered (issue 25): whenever it arrives, also once the dossier has ended.
    cmd.RecordNoticeDelivery: tuple(DossierState),
    # A complaint may come at any time after receipt, also about a finished dossier.
    cmd.RecordComplaint: tuple(DossierState),
    cmd.RequireVerification: (S.RECEIVED, S.ASSIGNED, S.PROCESSING),
    # Components at intake and during processing; the result while processing or once ready
    # (`_attach_file` narrows it per purpose).
    cmd.AttachFile: (*_BEFORE_ACCEPTANCE, *_OPEN_BEFORE_RESULT, S.READY),
    # Internal procedures (issue 22 item 2): a step hands over while the dossier is open and
    # not waiting for the citizen, the return step once the result is ready; a send-back
    # before the result is ready.
    cmd.HandOverStep: (S.RECEIVED, S.ASSIGNED, S.PROCESSING, S.READY),
    cmd.SendBackStep: (S.RECEIVED, S.ASSIGNED, S.PROCESSING),
    cmd.BeginSteps: (S.RECEIVED,),
    cmd.SetStepDue: (*_OPEN_BEFORE_RESULT, S.READY),
    cmd.RaiseStepAlert: (S.RECEIVED, S.ASSIGNED, S.PROCESSING, S.READY),
    # Transfers between units (issue 22 item 3; domain.transfers): while the dossier is being
    # handled, before its result; not while it waits on the citizen (our reading).
    cmd.TransferDossier: (S.RECEIVED, S.ASSIGNED, S.PROCESSING),
    cmd.ReturnTransfer: (S.RECEIVED, S.ASSIGNED, S.PROCESSING),
    # The wait for fees and taxes (issue 22 item 4): the notice while the dossier is handled,
    # the payment while it waits; a counter fee at any time from receipt to the return.
    cmd.RequestPayment: (S.RECEIVED, S.ASSIGNED, S.PROCESSING),
    cmd.ReceivePayment: (S.AWAITING_PAYMENT,),
    cmd.RecordFee: (*_OPEN_BEFORE_RESULT, S.READY),
}


def decide(state: Dossier, command: cmd.Command, now: datetime) -> list[ev.Event]:
    """The events `command` causes in `state`, or a `DomainError` with a stable type."""
    if isinstance(command, cmd.ReceiveDossier):
        return _receive(state, command, now)
    if isinstance(command, cmd.SubmitOnline):
        return _submit(state, command, now)
    check_allowed(state, type(command))
    handler = _HANDLERS[type(command)]
    return handler(state, command, now)


def check_allowed(state: Dossier, command: type[cmd.Command]) -> None:
    """Refuse (`DomainError`) a command of type `command` that `state` refuses whatever its
    fields say: before receipt, outside the states of `ALLOWED`, or a once-only step already
    taken (an extension, a rating, a verification). `decide` runs it first;
    `domain.permits` asks it without a command at hand (what a screen may offer)."""
    if state.state is None:
        raise InvalidTransition("the dossier has not been received", state="none")
    if state.state not in ALLOWED[command]:
        raise InvalidTransition(
            f"{command.__name__} is not allowed while the dossier is {state.state.value}",
            state=state.state.value)
    once = _ONCE.get(command)
    if once is not None:
        once(state)
    at_step = _STEP_CHECKS.get(command)
    if at_step is not None:
        at_step(state)


def _not_extended(s: Dossier) -> None:
    # "Việc hẹn lại ngày trả kết quả được thực hiện không quá một lần" (Lai Châu
    # 88/2025/QĐ-UBND art. 7(6); docs/legal-sources.md).
    if s.extended:
        raise AlreadyExtended("the appointment was already extended once", state=s.state_name)


def _not_rated(s: Dossier) -> None:
    if s.satisfaction is not None:
        raise AlreadyRated("the citizen already rated this dossier", state=s.state_name)


def _not_verified(s: Dossier) -> None:
    # Once: the maximum is the procedure's; a second request would not move it again. The
    # worker refuses it (NoVerificationMaximum) when the procedure has no maximum.
    if s.verification_required:
        raise InvalidTransition("verification was already recorded for this dossier",
                                state=s.state_name)


def _text(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise InvalidCommand(f"{field} must not be empty", field=field)
    return text


def _receive(state: Dossier, c: cmd.ReceiveDossier, now: datetime) -> list[ev.Event]:
    if state.state is not None:
        raise InvalidTransition("the dossier was already received", state=state.state.value)
    if not is_valid_code(c.code):
        raise InvalidCommand(f"not a dossier code: {c.code!r}", field="code")
    check_original_receipt(c.original_received_at, now)
    _check_papers(c)
    return [ev.DossierReceived(
        at=now, code=c.code, unit_code=c.unit_code, procedure_code=c.procedure_code,
        channel=c.channel, applicant_name=_text(c.applicant_name, "applicant_name"),
        applicant_id_number=c.applicant_id_number, applicant_phone=c.applicant_phone,
        applicant_email=c.applicant_email, applicant_address=c.applicant_address,
        documents=c.documents, original_received_at=c.original_received_at,
        result_delivery=_delivery(c.result_delivery), notify_by=c.notify_by,
        proxy_name=c.proxy_name, proxy_phone=c.proxy_phone,
        document_forms=c.document_forms, document_counts=c.document_counts,
        backdate_reason=_backdate_reason(c))]


def _submit(state: Dossier, c: cmd.SubmitOnline, now: datetime) -> list[ev.Event]:
    if state.state is not None:
        raise InvalidTransition("the dossier was already received", state=state.state.value)
    if not is_valid_code(c.code):
        raise InvalidCommand(f"not a dossier code: {c.code!r}", field="code")
    return [ev.DossierSubmitted(
        at=now, code=c.code, unit_code=c.unit_code, procedure_code=c.procedure_code,
        applicant_name=_text(c.applicant_name, "applicant_name"),
        applicant_id_number=c.applicant_id_number, applicant_phone=c.applicant_phone,
        applicant_email=c.applicant_email, applicant_address=c.applicant_address,
        documents=c.documents, result_delivery=_delivery(c.result_delivery),
        portal_code=c.portal_code, notify_by=c.notify_by)]


RESULT_DELIVERY = ("counter", "post")
# The forms a paper is handed in as (form 01 of Circular 01/2018/TT-VPCP, column "Hình thức":
# bản chính, bản sao; a certified copy is a copy the clerk need not compare with an original).
DOCUMENT_FORMS = ("original", "copy", "certified_copy")
MAX_DOCUMENT_COUNT = 99


def _check_papers(c: cmd.ReceiveDossier) -> None:
    """The paper table lines up with `documents`: one form and one count per paper, or none."""
    for name, values in (("document_forms", c.document_forms),
                         ("document_counts", c.document_counts)):
        if values and len(values) != len(c.documents):
            raise InvalidCommand(f"{name} must have one entry per document", field=name)
    if any(f not in ("", *DOCUMENT_FORMS) for f in c.document_forms):
        raise InvalidCommand(f"a document form must be one of {', '.join(DOCUMENT_FORMS)}",
                             field="document_forms")
    if any(not 0 <= n <= MAX_DOCUMENT_COUNT for n in c.document_counts):
        raise InvalidCommand(f"a document count must be between 1 and {MAX_DOCUMENT_COUNT}",
                             field="document_counts")


def _backdate_reason(c: cmd.ReceiveDossier) -> str | None:
    """The reason of a backdated receipt; only with `original_received_at`."""
    if c.backdate_reason is None:
        return None
    if c.original_received_at is None:
        raise InvalidCommand("backdate_reason needs original_received_at",
                             field="backdate_reason")
    return _text(c.backdate_reason, "backdate_reason")


def _delivery(value: str) -> str:
    if value not in RESULT_DELIVERY:
        raise InvalidCommand(f"result_delivery must be one of {', '.join(RESULT_DELIVERY)}",
                             field="result_delivery")
    return value


def check_original_receipt(original_received_at: datetime | None, now: datetime) -> None:
    """A dossier imported from a legacy system cannot have been handed in after `now`
    (`InvalidCommand` naming the field). The API checks it before spending a code."""
    if original_received_at is not None and original_received_at > now:
        raise InvalidCommand("original_received_at is in the future",
                             field="original_received_at")


def no_more_commands(state: Dossier) -> InvalidTransition:
    """The refusal of any command sent once the dossier's life has ended (`Dossier.ended`):
    its workflow is gone, so the API answers with this from the stored events."""
    return InvalidTransition(f"the dossier is {state.state_name}; it accepts no more commands",
                             state=state.state_name)


def refusal_after_end(state: Dossier, command: type[cmd.Command]) -> DomainError:
    """Why a command of type `command` is refused once the dossier's life has ended: the
    domain's own refusal when it has one (a second rating is `AlreadyRated`, so the citizen
    reads "already rated", issue 23 item 12), else `no_more_commands`."""
    try:
        check_allowed(state, command)
    except DomainError as err:
        return err
    return no_more_commands(state)


def _assign(s: Dossier, c: cmd.AssignOfficer, now: datetime) -> list[ev.Event]:
    officer = _text(c.officer, "officer")
    events: list[ev.Event] = [ev.OfficerAssigned(at=now, officer=officer, note=c.note)]
    # A leader's step "phân công thụ lý" followed by the officer's step: assigning the officer
    # is the hand-over to them (the one-stop flow of e.g. Cao Bằng 2022/QĐ-UBND 1.004944 steps
    # 2-3, Nghệ An 3854/QĐ-UBND 2.002755 steps 2-3).
    run, plan = walk.current(s.step_runs), s.step_plan
    if (plan is not None and run is not None and run.step + 1 < len(plan.steps)
            and plan.steps[run.step].role == "leader"
            and plan.steps[run.step + 1].role == "officer"):
        events.append(ev.StepHandedOver(at=now, from_step=run.step, to_step=run.step + 1,
                                        giver=c.actor, receiver=officer,
                                        unit_code=plan.steps[run.step + 1].unit_code))
    return events


def _start(s: Dossier, c: cmd.StartProcessing, now: datetime) -> list[ev.Event]:
    officer = c.officer or s.assignee
    if not officer:
        raise InvalidCommand("no officer given and none assigned", field="officer")
    return [ev.ProcessingStarted(at=now, officer=officer)]


def _request_supplement(s: Dossier, c: cmd.RequestSupplement, now: datetime) -> list[ev.Event]:
    # Decree 118/2025 art. 11 lets staff ask for a supplement once; Decision 766 item 2.1
    # counts a dossier with more than one request late (stated for dossiers whose last state is
    # the request). OUR READING: a second request once processing has begun is accepted (with
    # its reason, required here) and marks the dossier late. Every request after acceptance
    # pauses the clock (the wait is added back); the restart "tính lại từ đầu" of Decree
    # 297/2025 art. 6(4)(a) applies before acceptance: `RequestIntakeSupplement` (issue 11
    # point 7).
    late = s.state is S.PROCESSING and s.supplement_requests >= 1
    return [ev.SupplementRequested(at=now, reason=_text(c.reason, "reason"),
                                   documents=c.documents, counts_as_late=late)]


def _supplement(s: Dossier, c: cmd.ProvideSupplement, now: datetime) -> list[ev.Event]:
    paused = int((now - s.paused_at).total_seconds()) if s.paused_at else 0
    return [ev.SupplementReceived(at=now, documents=c.documents, note=c.note,
                                  paused_seconds=max(paused, 0))]


def timeliness_at(s: Dossier, finished_at: datetime) -> Timeliness:
    """A dossier's Biểu 06 verdict if it finishes at `finished_at` (`Dossier.verdict_at`: the
    date rule of `domain.clock.timeliness` against the due time WITHOUT an apology's
    extension; late once Decision 766's second supplement request flagged it)."""
    return s.verdict_at(finished_at)


def _complete(s: Dossier, c: cmd.CompleteProcessing, now: datetime) -> list[ev.Event]:
    # A transferred dossier's result goes back to the receiving unit (`result_sent_back`;
    # nothing for a dossier never transferred, so recorded histories decide as before).
    return [ev.ResultReady(at=now, summary=_text(c.summary, "summary"),
                           timeliness=timeliness_at(s, now)), *result_sent_back(s, now)]


def _return(s: Dossier, c: cmd.ReturnResult, now: datetime) -> list[ev.Event]:
    start = s.received_at or now
    events: list[ev.Event] = [ev.ResultReturned(
        at=now, timeliness=s.timeliness or timeliness_at(s, now),
        turnaround_seconds=max(int((now - start).total_seconds()), 0), note=c.note)]
    # The return at the counter is the internal procedure's last step: it ends the open run
    # (our reading: the published lists end with "trả kết quả").
    run = walk.current(s.step_runs)
    if run is not None:
        events.insert(0, ev.StepHandedOver(at=now, from_step=run.step, to_step=None,
                                           giver=c.actor, note=c.note))
    return events


# Internal procedures (issue 22 item 2; `domain.walk`, `domain.steps`) -----------------------

def _open_run(s: Dossier) -> tuple[walk.StepPlan, walk.StepRecord]:
    run = walk.current(s.step_runs)
    if s.step_plan is None:
        raise InvalidTransition("the dossier's procedure has no internal procedure",
                                state=s.state_name)
    if run is None:
        raise InvalidTransition("the dossier is at no step (all steps are done)",
                                state=s.state_name)
    return s.step_plan, run


def _can_hand_over(s: Dossier) -> None:
    plan, run = _open_run(s)
    if run.step + 1 >= len(plan.steps):
        raise InvalidTransition("the last step ends when the result is handed back (return)",
                                state=s.state_name)


def _can_send_back(s: Dossier) -> None:
    _, run = _open_run(s)
    if run.step == 0:
        raise InvalidTransition("the first step cannot be sent back", state=s.state_name)


def _hand_over(s: Dossier, c: cmd.HandOverStep, now: datetime) -> list[ev.Event]:
    plan, run = _open_run(s)
    to = run.step + 1
    receiver = _text(c.receiver, "receiver") if c.receiver is not None else None
    events: list[ev.Event] = [ev.StepHandedOver(
        at=now, from_step=run.step, to_step=to, giver=c.actor, receiver=receiver,
        unit_code=plan.steps[to].unit_code, note=c.note)]
    if c.transfer_by_steps:
        events += _step_transfer(s, plan, to, now, why="chuyển bước",
                                 counted_from=c.counted_from, return_by=c.return_by)
    return events


def _step_transfer(s: Dossier, plan: walk.StepPlan, step: int, now: datetime, *, why: str,
                   counted_from: datetime | None = None,
                   return_by: datetime | None = None) -> list[ev.Event]:
    """A transfer made by the procedure's steps (issue 22 item 3): when the dossier moves into
    a step another unit answers for, that unit holds it (its staff see and act on it, the
    receiving unit keeps seeing it), as a leader's `TransferDossier` would; nothing when the
    step's unit already holds it. The reason names the step."""
    unit = walk.step_unit_code(plan, step, s.unit_code)
    if unit == s.holding_unit_code:
        return []
    return transfer(s, unit, f"Bước {step + 1} ({plan.steps[step].name}): {why}", now,
                    counted_from=counted_from if counted_from and counted_from > now else None,
                    return_by=return_by)


def _send_back(s: Dossier, c: cmd.SendBackStep, now: datetime) -> list[ev.Event]:
    # domain.steps.send_back: to an earlier step only (default the previous one); the step
    # repeats with a fresh allowance (the workflow asks for its due instant).
    plan, run = _open_run(s)
    target = run.step - 1 if c.to_step is None else c.to_step
    if not 0 <= target < run.step:
        raise InvalidCommand(f"a dossier at step {run.step + 1} can be sent back to an earlier "
                             f"step only, not to step {target + 1}", field="to_step")
    reason = _text(c.reason, "reason")
    events: list[ev.Event] = [ev.StepSentBack(at=now, from_step=run.step, to_step=target,
                                              by=c.actor, reason=reason,
                                              unit_code=plan.steps[target].unit_code)]
    if c.transfer_by_steps:
        events += _step_transfer(s, plan, target, now, why=f"trả lại: {reason}")
    return events


def _begin_steps(s: Dossier, c: cmd.BeginSteps, now: datetime) -> list[ev.Event]:
    if s.step_plan is not None or not c.plan.steps:
        return []
    p = c.plan
    return [ev.StepsBegun(at=now, version=p.version, day_hours=p.day_hours,
                          carry_over=p.carry_over, steps=p.steps,
                          started_at=s.received_at or now, giver=c.actor)]


def _set_step_due(s: Dossier, c: cmd.SetStepDue, now: datetime) -> list[ev.Event]:
    run = walk.current(s.step_runs)
    if run is None or run.step != c.step:
        return []
    if run.due_set and (run.due_at, run.due_soon_at) == (c.due_at, c.due_soon_at):
        return []
    return [ev.StepDueSet(at=now, step=c.step, due_at=c.due_at, due_soon_at=c.due_soon_at,
                          credit_seconds=c.credit_seconds)]


def _raise_step_alert(s: Dossier, c: cmd.RaiseStepAlert, now: datetime) -> list[ev.Event]:
    pending = s.pending_step_alert()
    run = walk.current(s.step_runs)
    if (pending is None or run is None or s.step_plan is None or pending[0] is not c.kind
            or run.step != c.step or now < pending[1] or run.due_at is None):
        return []  # already raised, moved, or the step ended first
    step = s.step_plan.steps[run.step]
    return [ev.StepAlertRaised(at=now, kind=c.kind, step=run.step, due_at=pending[1],
                               unit_code=step.unit_code, role=step.role,
                               receiver=run.receiver)]


def _accept(s: Dossier, c: cmd.AcceptSubmission, now: datetime) -> list[ev.Event]:
    # The period counts from the complete dossier's arrival, not from the clerk's acceptance:
    # Decree 297/2025 art. 3(5) and 6(3) count from the day the national portal received the
    # dossier ("ngày hồ sơ được tiếp nhận"), art. 6(4)(a) from the complete supplement.
    # Applying that to every online procedure is OUR READING (the one that never costs the
    # citizen time); the day-one rule of domain.clock applies to that instant as to a receipt.
    start = s.counted_from or s.submitted_at or now
    return [ev.SubmissionAccepted(at=now, counted_from=min(start, now), note=c.note)]


def _request_intake_supplement(s: Dossier, c: cmd.RequestIntakeSupplement,
                               now: datetime) -> list[ev.Event]:
    # Decree 297/2025 art. 6(4)(a): asked for once, fully, within 08 working hours of the
    # portal's receipt (the hours are not enforced here); the period restarts when the
    # complete dossier arrives. A later request (the supplement still incomplete) is
    # accepted: OUR READING, as nothing runs late before acceptance.
    return [ev.IntakeSupplementRequested(at=now, reason=_text(c.reason, "reason"),
                                         documents=c.documents)]


def _intake_supplement(s: Dossier, c: cmd.ProvideIntakeSupplement,
                       now: datetime) -> list[ev.Event]:
    return [ev.IntakeSupplementReceived(at=now, documents=c.documents, note=c.note)]


def _refuse_at_intake(s: Dossier, c: cmd.RefuseAtIntake, now: datetime) -> list[ev.Event]:
    return [ev.SubmissionRefused(at=now, reason=_text(c.reason, "reason"))]


def _refuse(s: Dossier, c: cmd.RefuseDossier, now: datetime) -> list[ev.Event]:
    return [ev.DossierRefused(at=now, reason=_text(c.reason, "reason"))]


def _withdraw(s: Dossier, c: cmd.WithdrawDossier, now: datetime) -> list[ev.Event]:
    # Circular 03/2025/TT-VPCP art. 7: the citizen's request to withdraw (code 7) is answered
    # by the notice stopping the processing ("Thông báo dừng giải quyết hồ sơ", code 8).
    # Recording both at once, when the request is recorded, is our reading (issue 11 point 8).
    reason = _text(c.reason, "reason")
    events: list[ev.Event] = [ev.DossierWithdrawn(at=now, reason=reason)]
    if c.stop_notice:
        events.append(ev.ProcessingStopped(at=now, reason=reason))
    return events


def _stop(s: Dossier, c: cmd.StopProcessing, now: datetime) -> list[ev.Event]:
    return [ev.ProcessingStopped(at=now, reason=_text(c.reason, "reason"))]


def _extend(s: Dossier, c: cmd.ExtendDeadline, now: datetime) -> list[ev.Event]:
    if s.due_at is None or c.new_due_at <= s.due_at:
        raise InvalidCommand("new_due_at must be later than the current due time",
                             field="new_due_at")
    if c.new_due_at.tzinfo is None:
        raise InvalidCommand("new_due_at needs a UTC offset", field="new_due_at")
    in_time = s.due_soon_at is None or now <= s.due_soon_at
    return [ev.DeadlineExtended(at=now, reason=_text(c.reason, "reason"),
                                previous_due_at=s.due_at, new_due_at=c.new_due_at,
                                in_time=in_time)]


def _rate(s: Dossier, c: cmd.RateService, now: datetime) -> list[ev.Event]:
    return [ev.ServiceRated(at=now, satisfaction=c.satisfaction, comment=c.comment)]


def _verification(s: Dossier, c: cmd.RequireVerification, now: datetime) -> list[ev.Event]:
    return [ev.VerificationRequired(at=now, reason=_text(c.reason, "reason"))]


def _complaint(s: Dossier, c: cmd.RecordComplaint, now: datetime) -> list[ev.Event]:
    return [ev.ComplaintRecorded(
        at=now, complainant=_text(c.complainant, "complainant"),
        channel=_text(c.channel, "channel"), text=_text(c.text, "text"),
        outcome=_text(c.outcome, "outcome") if c.outcome is not None else None)]


def _correct_calendar(s: Dossier, c: cmd.CorrectCalendar, now: datetime) -> list[ev.Event]:
    # The new deadline itself is a SetDeadline the workflow issues after computing it.
    _text(c.reason, "reason")
    return []


def _set_deadline(s: Dossier, c: cmd.SetDeadline, now: datetime) -> list[ev.Event]:
    if c.due_soon_at > c.due_at:
        raise InvalidCommand("due_soon_at is after due_at", field="due_soon_at")
    unchanged = (s.due_at == c.due_at and s.due_soon_at == c.due_soon_at
                 and (c.legal_due_at is None or c.legal_due_at == s.legal_due_at))
    if unchanged and c.reason == "calendar_correction":
        return []  # idempotent: a correction that corrects nothing records nothing
    return [ev.DeadlineSet(at=now, version=s.deadline_version + 1, reason=c.reason, **c.terms())]


def _raise_alert(s: Dossier, c: cmd.RaiseAlert, now: datetime) -> list[ev.Event]:
    pending = s.pending_alert(c.legal_due)
    if pending is None or pending[0] is not c.kind or now < pending[1] or s.due_at is None:
        return []  # already raised for this deadline version / due instant, or not due
    events: list[ev.Event] = []
    while pending is not None and now >= pending[1] and s.due_at is not None:
        due = s.alert_due(pending[0], c.legal_due) or s.due_at
        event = ev.DeadlineAlertRaised(at=now, kind=pending[0],
                                       deadline_version=s.deadline_version, due_at=due)
        events.append(event)
        if not c.all_due:
            break
        s = evolve(s, event)
        pending = s.pending_alert(c.legal_due)
    return events


def _record_notification(s: Dossier, c: cmd.RecordNotification,
                         now: datetime) -> list[ev.Event]:
    if c.delivered:
        return [ev.NotificationSent(at=now, kind=c.kind, alert_event_id=c.alert_event_id,
                                    attempts=c.attempts)]
    return [ev.NotificationFailed(at=now, kind=c.kind, alert_event_id=c.alert_event_id,
                                  attempts=c.attempts, error=c.error or "unknown")]


# The channels a citizen may choose at intake (`notify_by`; motcua/notify/notices.py).
NOTICE_CHANNELS = ("sms", "zalo", "email")


def _record_notice(s: Dossier, c: cmd.RecordNoticeDelivery, now: datetime) -> list[ev.Event]:
    """Exactly once per delivery: a delivery already recorded (the dispatcher retried after
    a crash, or two dispatchers raced) stores nothing."""
    if c.channel not in NOTICE_CHANNELS:
        raise InvalidCommand(f"channel must be one of {', '.join(NOTICE_CHANNELS)}",
                             field="channel")
    if c.delivery_id in s.notices_delivered:
        return []
    return [ev.NoticeDelivered(
        at=now, delivery_id=_text(c.delivery_id, "delivery_id"),
        source_event_id=_text(c.source_event_id, "source_event_id"),
        kind=_text(c.kind, "kind"), channel=c.channel, delivered_at=c.delivered_at)]


_FILE_KINDS = ("original", "copy")
_SHA256 = frozenset("0123456789abcdef")


def _attach_file(s: Dossier, c: cmd.AttachFile, now: datetime) -> list[ev.Event]:
    # Components are scanned at intake (Decree 118/2025 art. 17(1)(c)) and may be added while
    # processing (a supplement); none once the result is ready, and the result only while
    # processing or once ready: our reading, no text found on later additions.
    if c.purpose == "component" and s.state is S.READY:
        raise InvalidTransition("components are recorded at intake and during processing",
                                state=s.state_name)
    if c.purpose == "result" and s.state not in (S.PROCESSING, S.READY):
        raise InvalidTransition("a result is issued while processing or once ready",
                                state=s.state_name)
    if c.purpose not in ("component", "result"):
        raise InvalidCommand("purpose must be component or result", field="purpose")
    if c.kind not in _FILE_KINDS:
        raise InvalidCommand("kind must be original or copy", field="kind")
    if c.pages < 1:
        raise InvalidCommand("pages must be at least 1", field="pages")
    if len(c.sha256) != 64 or not set(c.sha256) <= _SHA256:
        raise InvalidCommand("sha256 must be 64 lower-case hex digits", field="sha256")
    if c.size < 1:
        raise InvalidCommand("an empty file", field="file")
    if c.reused != (c.reused_from is not None):
        raise InvalidCommand("a reused file names the dossier it comes from",
                             field="reused_from")
    return [ev.FileAttached(
        at=now, file_id=_text(c.file_id, "file_id"), name=_text(c.name, "name"), kind=c.kind,
        pages=c.pages, sha256=c.sha256, size=c.size, media_type=c.media_type,
        uploaded_by=c.actor, purpose=c.purpose, digitised=c.digitised, reused=c.reused,
        from_national_store=c.from_national_store, reused_from=c.reused_from)]

# What a step command needs of the dossier's walk (checked by `check_allowed`, so a screen
# offers a hand-over or a send-back only where one can be made).
_STEP_CHECKS: dict[type[cmd.Command], Callable[[Dossier], None]] = {
    cmd.HandOverStep: _can_hand_over,
    cmd.SendBackStep: _can_send_back,
}

# Once-only steps (checked by `check_allowed` before the handler runs).
_ONCE: dict[type[cmd.Command], Callable[[Dossier], None]] = {
    cmd.ExtendDeadline: _not_extended,
    cmd.RateService: _not_rated,
    cmd.RequireVerification: _not_verified,
    cmd.ReturnTransfer: check_transferred,
}

_HANDLERS: dict[type[cmd.Command], Callable[[Dossier, Any, datetime], list[ev.Event]]] = {
    cmd.AcceptSubmission: _accept,
    cmd.RequestIntakeSupplement: _request_intake_supplement,
    cmd.ProvideIntakeSupplement: _intake_supplement,
    cmd.RefuseAtIntake: _refuse_at_intake,
    cmd.AssignOfficer: _assign,
    cmd.StartProcessing: _start,
    cmd.RequestSupplement: _request_supplement,
    cmd.ProvideSupplement: _supplement,
    cmd.CompleteProcessing: _complete,
    cmd.ReturnResult: _return,
    cmd.RefuseDossier: _refuse,
    cmd.WithdrawDossier: _withdraw,
    cmd.StopProcessing: _stop,
    cmd.ExtendDeadline: _extend,
    cmd.RateService: _rate,
    cmd.CorrectCalendar: _correct_calendar,
    cmd.RecordComplaint: _complaint,
    cmd.RequireVerification: _verification,
    cmd.SetDeadline: _set_deadline,
    cmd.RaiseAlert: _raise_alert,
    cmd.RecordNotification: _record_notification,
    cmd.RecordNoticeDelivery: _record_notice,
    cmd.AttachFile: _attach_file,
    cmd.HandOverStep: _hand_over,
    cmd.SendBackStep: _send_back,
    cmd.BeginSteps: _begin_steps,
    cmd.SetStepDue: _set_step_due,
    cmd.RaiseStepAlert: _raise_step_alert,
    cmd.TransferDossier: decide_transfer,
    cmd.ReturnTransfer: decide_return_transfer,
    cmd.RequestPayment: decide_request_payment,
    cmd.ReceivePayment: decide_receive_payment,
    cmd.RecordFee: decide_record_fee,
}

__all__ = ["ALLOWED", "check_allowed", "decide", "timeliness_at"]
