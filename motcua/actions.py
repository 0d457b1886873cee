"""The action table: every command a person (or the operator) sends to a received dossier, in
one place. It is read by the engine client (`motcua.dossiers.act`: which workflow update to
call), the API (`motcua.api.routes.actions` makes one route per row that has roles;
`motcua.access.permissions.PERMISSIONS` takes the roles from here) and anything else that
offers the actions to people.

Each row names:

- `name`: the action as clients spell it: the URL segment `POST /v1/dossiers/{code}/{name}`,
  the permission name and the idempotency operation;
- `command`: the `domain.commands` type it becomes; its request body is the
  `motcua.services.requests.ActionBody` subclass whose `command_type` is this type (found with
  `motcua.services.requests.body_for`), so the body's fields and the command's stay side by side;
- `update`: the `DossierWorkflow` update that runs it (Temporal needs one method per update);
- `roles`: the token roles (`motcua.access.tokens.Role` values) allowed to send it over HTTP; an
  action without roles is not offered over HTTP (the operator sends it from the CLI);
- `summary`, `operation_id`, `description`: its OpenAPI entry.

To add an action, follow the checklist in docs/architecture.md ("To add a command"): it names
every file a new command touches, this table being one row of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain import commands as cmd
from workflows import DossierWorkflow


@dataclass(frozen=True, kw_only=True)
class Action:
    """One row of the table (see the module docstring)."""

    name: str
    command: type[cmd.Command]
    update: Callable[..., Any]
    roles: frozenset[str] = frozenset()
    summary: str = ""
    operation_id: str = ""
    description: str = ""


_TABLE = (
    # Online intake (issue 11 points 7-8): the intake clerk, who may `receive`, decides on a
    # submission awaiting acceptance (national code 1).
    Action(name="accept", command=cmd.AcceptSubmission, update=DossierWorkflow.accept,
           roles=frozenset({"clerk"}), summary="Accept an online submission",
           operation_id="acceptSubmission",
           description="Clerk. Only while submitted (code 1): the dossier is received (code 2) "
           "and its due time counts from the complete submission (the submission, or the "
           "intake supplement that completed it; Decree 297/2025 art. 3(5), 6(4)(a)), with "
           "day one the next working day."),
    Action(name="request-intake-supplement", command=cmd.RequestIntakeSupplement,
           update=DossierWorkflow.request_intake_supplement, roles=frozenset({"clerk"}),
           summary="Ask for missing papers before acceptance",
           operation_id="requestIntakeSupplement",
           description="Clerk. Only while submitted: no clock runs, and the period restarts "
           "from the complete dossier (Decree 297/2025 art. 6(4)(a)), not a pause."),
    Action(name="intake-supplement", command=cmd.ProvideIntakeSupplement,
           update=DossierWorkflow.intake_supplement, roles=frozenset({"clerk"}),
           summary="Missing papers received before acceptance",
           operation_id="provideIntakeSupplement",
           description="Clerk. The submission awaits acceptance again; its period will count "
           "from this instant."),
    Action(name="refuse-intake", command=cmd.RefuseAtIntake,
           update=DossierWorkflow.refuse_at_intake, roles=frozenset({"clerk"}),
           summary="Refuse an online submission at intake", operation_id="refuseAtIntake",
           description="Clerk. Before acceptance only: closes the dossier with the reason "
           "(national code 3); never counted as received or resolved."),
    Action(name="assign", command=cmd.AssignOfficer, update=DossierWorkflow.assign,
           roles=frozenset({"leader"}), summary="Assign or reassign an officer",
           operation_id="assignOfficer",
           description="Leader. Allowed while received, assigned, processing or awaiting "
           "supplement."),
    Action(name="start", command=cmd.StartProcessing, update=DossierWorkflow.start,
           roles=frozenset({"officer", "leader"}), summary="Start processing",
           operation_id="startProcessing",
           description="Officer. Allowed once assigned; the officer defaults to the assignee."),
    Action(name="request-supplement", command=cmd.RequestSupplement,
           update=DossierWorkflow.request_supplement, roles=frozenset({"officer", "leader"}),
           summary="Ask for missing papers", operation_id="requestSupplement",
           description="Officer. The clock pauses; a second request during processing counts "
           "as late."),
    # The citizen brings the missing papers to the counter: the clerk records it there too
    # (issue 23 item 7; `domain.permits.COUNTER_STEPS`).
    Action(name="supplement", command=cmd.ProvideSupplement, update=DossierWorkflow.supplement,
           roles=frozenset({"officer", "leader", "clerk"}), summary="Missing papers received",
           operation_id="provideSupplement",
           description="Officer, or the clerk at the counter. The clock resumes and the due "
           "time moves by the time waited."),
    Action(name="complete", command=cmd.CompleteProcessing, update=DossierWorkflow.complete,
           roles=frozenset({"officer", "leader"}), summary="Result ready",
           operation_id="completeProcessing",
           description="Officer. Records timeliness (early / on time / late)."),
    Action(name="return", command=cmd.ReturnResult, update=DossierWorkflow.return_result,
           roles=frozenset({"clerk"}), summary="Result handed back", operation_id="returnResult",
           description="Clerk. Allowed once the result is ready."),
    Action(name="refuse", command=cmd.RefuseDossier, update=DossierWorkflow.refuse,
           roles=frozenset({"leader"}), summary="Refuse the dossier",
           operation_id="refuseDossier", description="Leader. Closes the dossier with the reason."),
    # The citizen asks to withdraw at the counter; a leader may record it too.
    Action(name="withdraw", command=cmd.WithdrawDossier, update=DossierWorkflow.withdraw,
           roles=frozenset({"clerk", "leader"}), summary="Citizen withdraws",
           operation_id="withdrawDossier",
           description="Clerk or leader. Judged by its date like any end of processing; "
           "before acceptance it closes the submission, uncounted."),
    Action(name="stop", command=cmd.StopProcessing, update=DossierWorkflow.stop,
           roles=frozenset({"leader"}), summary="Stop processing", operation_id="stopProcessing",
           description="Leader. Closes the dossier with the reason."),
    Action(name="extend", command=cmd.ExtendDeadline, update=DossierWorkflow.extend,
           roles=frozenset({"leader"}), summary="Apologise and extend (once)",
           operation_id="extendDeadline",
           description="Leader. At most once; `new_due_at` must be later than the due time."),
    # The rating is taken when the result is handed back at the counter (by the clerk, or on
    # the unit's kiosk screen, whose credential may do nothing else).
    Action(name="rate", command=cmd.RateService, update=DossierWorkflow.rate,
           roles=frozenset({"clerk", "kiosk"}), summary="Record the citizen's rating",
           operation_id="rateService", description="Clerk. Once, on a returned dossier."),
    Action(name="verification", command=cmd.RequireVerification,
           update=DossierWorkflow.require_verification, roles=frozenset({"officer", "leader"}),
           summary="Record that verification is needed", operation_id="requireVerification",
           description="Officer or leader, with the reason. Once: the due time moves to the "
           "procedure's maximum when verification is needed (e.g. Decree 120/2025: 05 working "
           "days, up to 10); refused for a procedure without one. Not an apology."),
    # Decision 766 item 5.4 counts dossiers with a complaint; staff record what they receive.
    Action(name="complaint", command=cmd.RecordComplaint,
           update=DossierWorkflow.record_complaint, roles=frozenset({"clerk", "leader"}),
           summary="Record a complaint or recommendation", operation_id="recordComplaint",
           description="Clerk or leader. Who, by which channel, what it says, and the outcome "
           "when known; counted by Decision 766 item 5.4."),
    # Internal procedures (issue 22 item 2): the step's actor (or a leader) hands over; a
    # leader sends back. `domain.permits` narrows both to the step the dossier is at.
    Action(name="hand-over", command=cmd.HandOverStep, update=DossierWorkflow.hand_over,
           roles=frozenset({"clerk", "officer", "leader"}),
           summary="Complete my step and hand the dossier on", operation_id="handOverStep",
           description="The current step's actor in its unit (clerk for the counter and the "
           "records clerk, officer, leader), or a leader. Only for a procedure with an "
           "internal procedure; the next step starts with its own allowance. The last step "
           "ends with `return`."),
    Action(name="send-back", command=cmd.SendBackStep, update=DossierWorkflow.send_back,
           roles=frozenset({"leader"}), summary="Send the dossier back a step",
           operation_id="sendBackStep",
           description="Leader, with the reason. To an earlier step (default: the previous "
           "one), which runs again with a fresh allowance; the history keeps both runs."),
    # Transfers between units (issue 22 item 3; domain.transfers): a leader of the unit holding
    # the dossier (`domain.permits.unit_refusal` checks the unit).
    Action(name="transfer", command=cmd.TransferDossier, update=DossierWorkflow.transfer,
           roles=frozenset({"leader"}), summary="Transfer the dossier to another unit",
           operation_id="transferDossier",
           description="Leader of the unit holding the dossier, with the unit and the reason "
           "(liên thông). Afterwards the new unit's staff see and act on it, the receiving "
           "unit's staff still see it, and the result comes back to the receiving unit "
           "(Nghệ An 3783/QĐ-UBND art. 2(2)(d)). The other unit's share starts at once or, "
           "after 15:00, at the next working morning (setting MOTCUA_TRANSFER_FORWARDING)."),
    Action(name="return-transfer", command=cmd.ReturnTransfer,
           update=DossierWorkflow.return_transfer, roles=frozenset({"leader"}),
           summary="Return a transferred dossier as unfit", operation_id="returnTransfer",
           description="Leader of the unit holding a transferred dossier, with the reason: "
           "back to the unit that sent it; within 02 working days, and the one-stop shop "
           "tells the citizen within 01 working day (Đồng Tháp 138/2025/QĐ-UBND art. "
           "3(4)(a)); a late return is recorded as such."),
    # The wait for fees and taxes (issue 22 item 4, national code 6).
    Action(name="request-payment", command=cmd.RequestPayment,
           update=DossierWorkflow.request_payment,
           roles=frozenset({"officer", "clerk", "leader"}),
           summary="Tax or fee notice sent: wait for payment", operation_id="requestPayment",
           description="Officer, clerk or leader. The dossier waits for the citizen's "
           "financial obligation (national code 6) and the clock stops; the first "
           "appointment is the notice (Đồng Tháp 138/2025/QĐ-UBND art. 5(3))."),
    Action(name="payment-received", command=cmd.ReceivePayment,
           update=DossierWorkflow.payment_received, roles=frozenset({"clerk", "leader"}),
           summary="Proof of payment received", operation_id="receivePayment",
           description="Clerk at the counter (or the portal integration's clerk token). The "
           "clock resumes and the due time moves by the office time waited: the second "
           "appointment, counted from proof of payment."),
    Action(name="record-fee", command=cmd.RecordFee, update=DossierWorkflow.record_fee,
           roles=frozenset({"clerk"}), summary="Record the fee paid at the counter",
           operation_id="recordFee",
           description="Clerk. The amount in VND and the receipt's number; shown on the "
           "receipt beside the procedure's fee from the catalog."),
    # Operator only (`motcua calendar correct`): recompute a due time after a calendar fix.
    Action(name="correct-calendar", command=cmd.CorrectCalendar,
           update=DossierWorkflow.correct_calendar),
    # Files (issue 26): not a JSON route of its own; `POST /v1/dossiers/{code}/files` (multipart,
    # motcua.api.routes.files) stores the bytes first, then sends this through the table.
    Action(name="attach-file", command=cmd.AttachFile, update=DossierWorkflow.attach_file),
    # The dispatcher only (issue 25): a citizen's notice delivered becomes an event on the
    # dossier (motcua/notify/recorder.py). No roles: no person sends it.
    Action(name="record-notice", command=cmd.RecordNoticeDelivery,
           update=DossierWorkflow.record_notice),
)

ACTIONS: dict[str, Action] = {action.name: action for action in _TABLE}
"""Every action by name, in the order the API lists them."""

HTTP_ACTIONS: tuple[Action, ...] = tuple(a for a in _TABLE if a.roles)
"""The actions offered over HTTP (those with roles)."""

SENDERS: dict[type[cmd.Command], frozenset[str]] = {a.command: a.roles for a in HTTP_ACTIONS}
"""The roles that may send each command, in table order: what `domain.permits` decides with."""

BY_COMMAND: dict[type[cmd.Command], Action] = {a.command: a for a in _TABLE}
"""Every action by its command type."""
