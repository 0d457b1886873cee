"""`DossierWorkflow`: one durable workflow per dossier, workflow id = the dossier code.

Deterministic code only: it imports the pure domain package, the standard library and
`temporalio.workflow`. Every accepted command is decided by the domain, its events are
appended to PostgreSQL through an activity (ids and positions chosen here, so retries store
them once), and only then folded into the state. Deadline alerts come from durable timers.
"""

# No `from __future__ import annotations`: Temporal's converter resolves these dataclasses'
# type hints inside the workflow sandbox, where string annotations cannot be evaluated.
import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain import commands as cmd
    from domain import events as ev
    from domain.contracts import (
        APPEND_EVENTS,
        COMPUTE_DEADLINE,
        PLAN_STEPS,
        SEND_NOTIFICATION,
        STEP_DUE,
        AppendRequest,
        AppendResult,
        DeadlineResult,
        NotificationRequest,
        PlanStepsRequest,
        PlanStepsResult,
        StepDueRequest,
        StepDueResult,
    )
    from domain.deadlines import deadline_reason
    from domain.deadlines import request_for as deadline_request
    from domain.decide import decide
    from domain.dossier import RATING_WINDOW, Dossier, fold
    from domain.envelope import EventEnvelope
    from domain.errors import DomainError
    from domain.states import AlertKind, DossierState
    from domain.steps import due_request as step_due_request

SA_STATE = SearchAttributeKey.for_keyword("MotcuaState")
SA_SLA = SearchAttributeKey.for_keyword("MotcuaSlaStatus")
SA_DUE = SearchAttributeKey.for_datetime("MotcuaDueAt")
SA_UNIT = SearchAttributeKey.for_keyword("MotcuaUnit")
SA_PROCEDURE = SearchAttributeKey.for_keyword("MotcuaProcedure")
SEARCH_ATTRIBUTES = (SA_STATE, SA_SLA, SA_DUE, SA_UNIT, SA_PROCEDURE)

# Patch: appends as local activities, and alerts due at the same instant stored together.
# Histories from before it replay on the old branch (tests/replay/histories/*.v1.json).
LOCAL_APPENDS = "local-appends-v2"
# Patch: a deadline alert is stored marked `delivery: outbox` and delivered by the dispatcher
# (motcua/notify/dispatcher.py), not by a notification activity and a second append here. Histories
# from before it still notify from the workflow (tests/replay/histories/*.v3.json and older).
NOTIFY_OUTBOX = "notify-outbox-v1"
# Patch: the overdue alerts fire at the legal due time (an apology's new appointment does not
# move it) and a further alert when the new appointment passes (issue 11 point 5;
# `Dossier.pending_alert(legal_due=True)`). Histories from before it keep the old alerts.
APOLOGY_LEGAL_DUE = "apology-legal-due-v1"
# Patch: a withdrawal is followed by the stop notice (Circular 03/2025 art. 7; code 7 then 8).
WITHDRAWAL_STOP_NOTICE = "withdrawal-stop-notice-v1"
# Patch: an online submission starts the dossier awaiting acceptance (code 1), without a due
# time; accepting it gives the receipt deadline counted from the complete submission (issue 11
# points 7 and 8). Histories from before it never start that way (tests/replay/histories/*.v4
# and older); online_intake.v5.json was recorded under it.
ONLINE_INTAKE = "online-intake-v1"
# Patch: files on the dossier (issue 26): the `attach_file` update records a `FileAttached`
# event (a scanned component or the signed result; the bytes live outside the event store).
# A new handler only: no recorded path changes, but the marker dates the histories that use
# it (tests/replay/histories/files.v5.json) and lets an old worker's history be told apart.
DOSSIER_FILES = "dossier-files-v1"
# Patch: internal procedures (issue 22 item 2): a dossier received under a procedure with an
# internal procedure copies its plan (`StepsBegun`), each step gets its due instant from the
# step activity when it starts, and raises its own alerts from durable timers. Dossiers
# received before it (every history in tests/replay/histories/*.v5.json and older) never ask
# for a plan, so they keep the single-assignee lifecycle; steps.v6.json was recorded under it.
INTERNAL_STEPS = "internal-steps-v1"
# Patch: transfers between units (issue 22 item 3): the `transfer` and `return_transfer`
# updates, and a transferred dossier's result sent back to the receiving unit with the
# result ready (domain.transfers). New handlers only, and `complete` decides as before for a
# dossier never transferred (no recorded history has one); the marker dates the histories
# that use them (tests/replay/histories/transfer.v5.json).
UNIT_TRANSFER = "unit-transfer-v1"
# Patch: the wait for fees and taxes (issue 22 item 4, national code 6): `request_payment`,
# `payment_received` (a pause like a supplement's) and `record_fee`. New handlers only; the
# marker dates the histories that use them (tests/replay/histories/payment.v5.json).
FEE_PAYMENT = "fee-payment-v1"
# Patch: `NOTIFY_OUTBOX` is asked in the first workflow task, beside the receipt's other patch
# markers, instead of in the task of the first alert (issue 27 item 3). The SDK records a
# patch's marker and upserts the TemporalChangeVersion search attribute in the task that first
# asks; asked at the alert, that was a marker and a second visibility write per alert that the
# bare timer does not make (bench/README.md, "The engine's share per alert"). The answer is
# memoised for the run, so the alert reads it without a marker. Histories from before it ask at
# the first alert (tests/replay/histories/*.v6.json and older).
OUTBOX_AT_START = "outbox-at-start-v1"
# Patch: citizens' notices delivered become events of the dossier (issue 25 item 2): the
# dispatcher's `record_notice` update, after the gateway accepted a notice, appends
# `NoticeDelivered` through the same local-activity append as every other event, so the
# workflow keeps choosing every position of its stream. A new handler only (no recorded path
# changes); the marker dates the histories that use it (tests/replay/histories/notices.v7.json).
NOTICE_EVENTS = "notice-delivered-v1"
# Patch: transfers made by the procedure's steps (issue 22 item 3): a hand-over into (or a
# send-back to) a step another unit answers for also hands the dossier to that unit
# (`DossierTransferred`, `domain.decide._step_transfer`), so its staff see and act on it.
# Histories from before it (steps.v6.json and older) hand over within the receiving unit only;
# steps_transfer.v6.json was recorded under it.
STEP_TRANSFER = "step-transfer-v1"
# Appends wait for PostgreSQL as long as it takes: an event must never be dropped.
APPEND_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), backoff_coefficient=2.0,
                           maximum_interval=timedelta(seconds=10))
DEADLINE_RETRY = RetryPolicy(maximum_attempts=5, maximum_interval=timedelta(seconds=5))
NOTIFY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                           maximum_interval=timedelta(seconds=60), maximum_attempts=10)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DossierStart:
    """The workflow's input: the receipt (or, since patch `online-intake-v1`, the online
    submission instead), and the state carried over a continue-as-new."""

    receipt: cmd.ReceiveDossier | None = None
    state: Dossier | None = None
    submission: cmd.SubmitOnline | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Acted:
    """What an action's update answers: the state after the command and the events it stored
    (as stored), so a client needs no read of the stream after it."""

    state: Dossier
    appended: list[EventEnvelope]


def _rejected(err: DomainError, state: Dossier) -> ApplicationError:
    return ApplicationError(err.message, {"state": state.state_name, **err.details},
                            type=err.type, non_retryable=True)


C = TypeVar("C", bound=cmd.Command)


def _command_update(
        name: str, kind: type[C]) -> "workflow.UpdateMethodMultiParam[[DossierWorkflow, C], Acted]":
    """The update that runs one command type: `DossierWorkflow._update` (decide, append, fold)
    with the validator every command shares (`DossierWorkflow._validate`: the same decision,
    refused before anything reaches the history).

    Temporal needs one update per name and reads the argument's type from the handler's
    annotations, so each command still gets its own method, built here rather than written
    out. What a recorded history depends on stays as it was: the update's `name` (given
    explicitly, equal to the class attribute) and its one argument, the command dataclass.
    Not a dynamic handler (`workflow.update(dynamic=True)`), which would take the arguments
    untyped and answer every unknown name."""

    async def handler(self: "DossierWorkflow", command: C) -> Acted:
        return await self._update(command)

    def validator(self: "DossierWorkflow", command: C) -> None:
        self._validate(command)

    for fn, returns in ((handler, Acted), (validator, None)):
        fn.__name__ = name if fn is handler else f"_validate_{name}"
        fn.__qualname__ = f"DossierWorkflow.{fn.__name__}"
        # The SDK decodes the argument by this annotation and requires the validator's
        # parameters to equal the handler's (`self` unannotated, as on a written method).
        fn.__annotations__ = {"command": kind, "return": returns}
    update = workflow.update(handler)
    update.validator(validator)
    return update


@workflow.defn
class DossierWorkflow:
    @workflow.init
    def __init__(self, start: DossierStart) -> None:
        self._dossier = start.state or Dossier()
        self._lock = asyncio.Lock()
        self._revision = 0
        self._notifications: list[asyncio.Task[None]] = []

    @workflow.run
    async def run(self, start: DossierStart) -> Dossier:
        if self._dossier.state is None:
            if workflow.patched(OUTBOX_AT_START):
                workflow.patched(NOTIFY_OUTBOX)
            if start.submission is not None and workflow.patched(ONLINE_INTAKE):
                await self._execute(start.submission, causation="start")
            elif start.receipt is not None:
                await self._execute(start.receipt, causation="start")
            else:
                raise ApplicationError("the workflow was started without a receipt",
                                       type="InvalidCommand", non_retryable=True)
        while not self._finished():
            if workflow.info().is_continue_as_new_suggested() and not self._notifications:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(dataclasses.replace(start, state=self._dossier))
            await self._wait_for_change_or_alert()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self._notifications)
        return self._dossier

    def _finished(self) -> bool:
        return self._dossier.ended(workflow.now())

    async def _wait_for_change_or_alert(self) -> None:
        seen = self._revision
        changed: Callable[[], bool] = lambda: self._revision != seen  # noqa: E731
        legal_due = workflow.patched(APOLOGY_LEGAL_DUE)
        alert = self._dossier.pending_alert(legal_due)
        # A step's own alert, when it comes first (only dossiers walking steps have one: they
        # were received under `INTERNAL_STEPS`, so no recorded history takes this branch).
        step_alert = self._dossier.pending_step_alert()
        if step_alert is not None and (alert is None or step_alert[1] < alert[1]):
            await self._step_alert(changed, *step_alert)
            return
        if alert is None:
            closed = self._dossier.closed_at
            timeout = (closed + RATING_WINDOW - workflow.now()
                       if self._dossier.state is DossierState.RETURNED and closed else None)
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(changed, timeout=timeout)
            return
        kind, at = alert
        delay = at - workflow.now()
        if delay > timedelta(0):
            try:
                await workflow.wait_condition(changed, timeout=delay,
                                              timeout_summary=f"{kind.value} alert")
                return  # something changed first: re-evaluate the alerts
            except TimeoutError:
                pass
        await self._execute(cmd.RaiseAlert(kind=kind, all_due=workflow.patched(LOCAL_APPENDS),
                                           legal_due=legal_due),
                            causation=f"timer:{kind.value}")

    async def _step_alert(self, changed: Callable[[], bool], kind: AlertKind,
                          at: datetime) -> None:
        delay = at - workflow.now()
        if delay > timedelta(0):
            try:
                await workflow.wait_condition(changed, timeout=delay,
                                              timeout_summary=f"step {kind.value} alert")
                return
            except TimeoutError:
                pass
        step = self._dossier.current_step
        if step is not None:
            await self._execute(cmd.RaiseStepAlert(kind=kind, step=step),
                                causation=f"timer:step-{kind.value}")

    # -- commands -------------------------------------------------------------------------

    async def _execute(self, command: cmd.Command, *, causation: str) -> Acted:
        """Decide, compute a new deadline where the events call for one, append, then fold."""
        async with self._lock:
            before = self._dossier
            try:
                events = decide(before, command, workflow.now())
                state = fold(events, before)
                reason = deadline_reason(command, events)
                if reason is not None:
                    deadline = await self._compute_deadline(state)
                    more = decide(state, cmd.SetDeadline(
                        reason=reason, actor=command.actor, **deadline.terms()), workflow.now())
                    events, state = [*events, *more], fold(more, state)
                if reason == "receipt" and workflow.patched(INTERNAL_STEPS):
                    plan = await self._plan_steps(state)
                    if plan.plan is not None:
                        more = decide(state, cmd.BeginSteps(plan=plan.plan, actor=command.actor),
                                      workflow.now())
                        events, state = [*events, *more], fold(more, state)
                if state.step_plan is not None:
                    more = await self._step_due(state, events, command)
                    events, state = [*events, *more], fold(more, state)
            except DomainError as err:
                raise _rejected(err, before) from err
            if not events:
                return Acted(state=before, appended=[])
            stored, canonical = await self._append(before, events, command, causation)
            if canonical:
                # A retried decision found its events already stored (maybe decided at another
                # instant): adopt what the store holds, so state == fold(stored events).
                stored = canonical
                events = [e.event for e in canonical]
                state = fold(events, before)
            self._dossier = state
            self._revision += 1
            self._upsert_search_attributes()
        for envelope, event in zip(stored, events, strict=True):
            if isinstance(event, ev.DeadlineAlertRaised) and \
                    envelope.metadata.get("delivery") != "outbox":  # before NOTIFY_OUTBOX
                self._notifications.append(asyncio.create_task(self._notify(envelope, event)))
        return Acted(state=self._dossier, appended=stored)

    async def _compute_deadline(self, state: Dossier) -> DeadlineResult:
        # Data only (no new command, so no patch): counted from the receipt, or from an
        # accepted online submission's complete arrival (`Dossier.period_start`); a
        # recomputation keeps the counting rule of the receipt deadline; a replay reads the
        # recorded result and never runs this.
        request = deadline_request(state)
        # A local activity: the result is recorded in history, so a replay (or a worker with
        # a newer holiday table) gets the deadline the citizen was given, never a new one.
        try:
            result: DeadlineResult = await workflow.execute_local_activity(
                COMPUTE_DEADLINE, request, result_type=DeadlineResult,
                start_to_close_timeout=timedelta(seconds=10), retry_policy=DEADLINE_RETRY)
        except ActivityError as err:
            # No deadline can be given (unknown procedure, date outside the calendar): the
            # command is refused and nothing is stored.
            cause = err.cause
            raise ApplicationError(
                cause.message if isinstance(cause, ApplicationError) else str(err),
                {"state": state.state_name},
                type=cause.type if isinstance(cause, ApplicationError) and cause.type
                else "DeadlineUnavailable", non_retryable=True) from err
        return result

    async def _plan_steps(self, state: Dossier) -> PlanStepsResult:
        # A local activity, like the deadline: the plan read from the catalog this worker holds
        # is recorded in the history, so a replay keeps the steps the dossier was received under.
        result: PlanStepsResult = await workflow.execute_local_activity(
            PLAN_STEPS, PlanStepsRequest(procedure_code=state.procedure_code,
                                         unit_code=state.unit_code),
            result_type=PlanStepsResult, start_to_close_timeout=timedelta(seconds=10),
            retry_policy=DEADLINE_RETRY)
        return result

    async def _step_due(self, state: Dossier, events: list[ev.Event],
                        command: cmd.Command) -> list[ev.Event]:
        """The `StepDueSet` the open run needs after `events` (none when it needs none): its
        due instant from the office calendar, by a local activity (recorded, as deadlines)."""
        request: StepDueRequest | None = step_due_request(state, events)
        run = state.step_runs[-1] if state.step_runs else None
        if request is None or run is None:
            return []
        due: StepDueResult = await workflow.execute_local_activity(
            STEP_DUE, request, result_type=StepDueResult,
            start_to_close_timeout=timedelta(seconds=10), retry_policy=DEADLINE_RETRY)
        return decide(state, cmd.SetStepDue(step=run.step, due_at=due.due_at,
                                            due_soon_at=due.due_soon_at,
                                            credit_seconds=due.credit_seconds,
                                            actor=command.actor), workflow.now())

    async def _append(self, before: Dossier, events: list[ev.Event], command: cmd.Command,
                      causation: str) -> tuple[list[EventEnvelope], list[EventEnvelope]]:
        """Store `events`; returns the envelopes sent and, after a retry that found events
        already stored, the stored ones (else an empty list)."""
        metadata = {"actor": command.actor, "causation": causation,
                    "command": type(command).__name__}
        if command.correlation_id:
            metadata["correlation_id"] = command.correlation_id
        if any(isinstance(e, ev.DeadlineAlertRaised) for e in events) and \
                workflow.patched(NOTIFY_OUTBOX):
            # The dispatcher delivers it: no notification activity, no second append.
            metadata["delivery"] = "outbox"
        code = before.code or getattr(command, "code", "")
        envelopes = [
            EventEnvelope.wrap(e, event_id=str(workflow.uuid4()), stream=code,
                               position=before.version + i, metadata=metadata)
            for i, e in enumerate(events, start=1)
        ]
        request = AppendRequest(stream=code, events=envelopes)
        if workflow.patched(LOCAL_APPENDS):
            # A local activity: no activity task round trip through the server (the dev server
            # is the measured bottleneck), its result recorded in the workflow task itself.
            # Safe because the append is idempotent: a crashed worker's retry stores nothing
            # twice. Retries beyond the threshold continue from a durable timer.
            result = await workflow.execute_local_activity(
                APPEND_EVENTS, request, result_type=AppendResult,
                start_to_close_timeout=timedelta(seconds=15), retry_policy=APPEND_RETRY,
                local_retry_threshold=timedelta(seconds=10), summary=f"append {len(envelopes)}")
        else:  # histories recorded before the patch
            result = await workflow.execute_activity(
                APPEND_EVENTS, request, result_type=AppendResult,
                start_to_close_timeout=timedelta(seconds=15), retry_policy=APPEND_RETRY,
                summary=f"append {len(envelopes)} events")
        return envelopes, result.canonical

    async def _notify(self, envelope: EventEnvelope, alert: ev.DeadlineAlertRaised) -> None:
        d = self._dossier
        request = NotificationRequest(
            kind=alert.kind.value, code=d.code, unit_code=d.unit_code,
            procedure_code=d.procedure_code, alert_event_id=envelope.event_id,
            due_at=alert.due_at, raised_at=alert.at, deadline_version=alert.deadline_version)
        try:
            attempts = await workflow.execute_activity(
                SEND_NOTIFICATION, request, result_type=int,
                start_to_close_timeout=timedelta(seconds=30), retry_policy=NOTIFY_RETRY)
            record = cmd.RecordNotification(kind=request.kind, alert_event_id=envelope.event_id,
                                            delivered=True, attempts=attempts)
        except ActivityError as err:
            cause = err.cause
            record = cmd.RecordNotification(
                kind=request.kind, alert_event_id=envelope.event_id, delivered=False,
                attempts=NOTIFY_RETRY.maximum_attempts,
                error=str(cause.message if isinstance(cause, ApplicationError) else err))
        await self._execute(record, causation=f"notification:{envelope.event_id}")

    def _upsert_search_attributes(self) -> None:
        d = self._dossier
        updates: list[SearchAttributeUpdate[Any]] = [
            SA_STATE.value_set(d.state_name),
            SA_SLA.value_set(d.sla_status(workflow.now()).value),
            # The unit holding the dossier now (the receiving unit unless transferred: the
            # same value as before for every dossier recorded before `unit-transfer-v1`).
            SA_UNIT.value_set(d.holding_unit_code),
            SA_PROCEDURE.value_set(d.procedure_code),
        ]
        if d.due_at is not None:
            updates.append(SA_DUE.value_set(d.due_at))
        workflow.upsert_search_attributes(updates)

    # -- queries and updates ----------------------------------------------------------------

    @workflow.query
    def state(self) -> Dossier:
        """The full current state."""
        return self._dossier

    async def _update(self, command: cmd.Command) -> Acted:
        info = workflow.current_update_info()
        return await self._execute(command, causation=f"update:{info.id}" if info else "update")

    def _validate(self, command: cmd.Command) -> None:
        try:
            decide(self._dossier, command, workflow.now())
        except DomainError as err:
            raise _rejected(err, self._dossier) from err

    @workflow.update
    async def receipt(self) -> Dossier:
        """Waits until the receipt (and its deadline) is stored; used with update-with-start."""
        await workflow.wait_condition(lambda: self._dossier.deadline_version > 0)
        return self._dossier

    @workflow.update
    async def submission(self) -> Dossier:
        """Waits until the online submission is stored (no due time yet); used with
        update-with-start like `receipt`."""
        await workflow.wait_condition(lambda: self._dossier.state is not None)
        return self._dossier

    # One update per command: the same body (decide, append, fold) and the same validator
    # (`_command_update`); the attribute's name is the update's name in recorded histories.
    accept = _command_update("accept", cmd.AcceptSubmission)
    request_intake_supplement = _command_update("request_intake_supplement",
                                                cmd.RequestIntakeSupplement)
    intake_supplement = _command_update("intake_supplement", cmd.ProvideIntakeSupplement)
    refuse_at_intake = _command_update("refuse_at_intake", cmd.RefuseAtIntake)
    assign = _command_update("assign", cmd.AssignOfficer)
    start = _command_update("start", cmd.StartProcessing)
    request_supplement = _command_update("request_supplement", cmd.RequestSupplement)
    supplement = _command_update("supplement", cmd.ProvideSupplement)
    complete = _command_update("complete", cmd.CompleteProcessing)
    return_result = _command_update("return_result", cmd.ReturnResult)
    refuse = _command_update("refuse", cmd.RefuseDossier)

    @workflow.update
    async def withdraw(self, command: cmd.WithdrawDossier) -> Acted:
        return await self._update(dataclasses.replace(
            command, stop_notice=workflow.patched(WITHDRAWAL_STOP_NOTICE)))

    @withdraw.validator
    def _validate_withdraw(self, command: cmd.WithdrawDossier) -> None:
        self._validate(command)

    stop = _command_update("stop", cmd.StopProcessing)
    extend = _command_update("extend", cmd.ExtendDeadline)
    rate = _command_update("rate", cmd.RateService)
    require_verification = _command_update("require_verification", cmd.RequireVerification)
    record_complaint = _command_update("record_complaint", cmd.RecordComplaint)
    correct_calendar = _command_update("correct_calendar", cmd.CorrectCalendar)

    @workflow.update
    async def attach_file(self, command: cmd.AttachFile) -> Acted:
        workflow.patched(DOSSIER_FILES)
        return await self._update(command)

    @attach_file.validator
    def _validate_attach_file(self, command: cmd.AttachFile) -> None:
        self._validate(command)

    # Internal procedures (issue 22 item 2; patch `internal-steps-v1`): new updates; since
    # `step-transfer-v1` a move into another unit's step transfers the dossier to it.
    @workflow.update
    async def hand_over(self, command: cmd.HandOverStep) -> Acted:
        return await self._update(dataclasses.replace(
            command, transfer_by_steps=workflow.patched(STEP_TRANSFER)))

    @hand_over.validator
    def _validate_hand_over(self, command: cmd.HandOverStep) -> None:
        self._validate(command)

    @workflow.update
    async def send_back(self, command: cmd.SendBackStep) -> Acted:
        return await self._update(dataclasses.replace(
            command, transfer_by_steps=workflow.patched(STEP_TRANSFER)))

    @send_back.validator
    def _validate_send_back(self, command: cmd.SendBackStep) -> None:
        self._validate(command)

    # Transfers between units (patch `unit-transfer-v1`) and the wait for payment (patch
    # `fee-payment-v1`): the shared body, each behind its marker.
    @workflow.update
    async def transfer(self, command: cmd.TransferDossier) -> Acted:
        workflow.patched(UNIT_TRANSFER)
        return await self._update(command)

    @transfer.validator
    def _validate_transfer(self, command: cmd.TransferDossier) -> None:
        self._validate(command)

    @workflow.update
    async def return_transfer(self, command: cmd.ReturnTransfer) -> Acted:
        workflow.patched(UNIT_TRANSFER)
        return await self._update(command)

    @return_transfer.validator
    def _validate_return_transfer(self, command: cmd.ReturnTransfer) -> None:
        self._validate(command)

    @workflow.update
    async def request_payment(self, command: cmd.RequestPayment) -> Acted:
        workflow.patched(FEE_PAYMENT)
        return await self._update(command)

    @request_payment.validator
    def _validate_request_payment(self, command: cmd.RequestPayment) -> None:
        self._validate(command)

    @workflow.update
    async def payment_received(self, command: cmd.ReceivePayment) -> Acted:
        workflow.patched(FEE_PAYMENT)
        return await self._update(command)

    @payment_received.validator
    def _validate_payment_received(self, command: cmd.ReceivePayment) -> None:
        self._validate(command)

    @workflow.update
    async def record_fee(self, command: cmd.RecordFee) -> Acted:
        workflow.patched(FEE_PAYMENT)
        return await self._update(command)

    @record_fee.validator
    def _validate_record_fee(self, command: cmd.RecordFee) -> None:
        self._validate(command)

    @workflow.update
    async def record_notice(self, command: cmd.RecordNoticeDelivery) -> Acted:
        """A citizen's notice was delivered (sent by the dispatcher, never over HTTP): one
        `NoticeDelivered`, or nothing when this delivery is already recorded."""
        workflow.patched(NOTICE_EVENTS)
        return await self._update(command)

    @record_notice.validator
    def _validate_record_notice(self, command: cmd.RecordNoticeDelivery) -> None:
        self._validate(command)
