"""The dossier services every interface calls: receive, submit online, act, view one dossier,
the citizen's lookup. The HTTP routes (`motcua.api.routes`) and the console's pages
(`motcua.console`) are adapters over these functions; the rules live here once.

Each command takes the process's `Resources`, the `Caller` (who acts, the correlation id
written into the events, the idempotency key) and a validated request body
(`motcua.services.requests`), checks the caller's permission and unit scope
(`motcua.access.permissions`), runs under the idempotency key (`motcua.services.idempotency`:
a retry replays the first answer) and answers an `Answer`: the dossier as the caller may see it
(personal data only for the roles that may see it, each such read recorded:
`motcua.access.privacy`). Failures are `motcua.problems.Problem`s, which each interface renders
its own way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from domain import commands as cmd
from domain.catalog import Procedure
from domain.decide import check_original_receipt, refusal_after_end
from domain.dossier import Dossier, folded
from domain.envelope import EventEnvelope
from domain.errors import InvalidCommand
from domain.states import Channel
from motcua import lookup
from motcua.access import privacy
from motcua.access.permissions import (
    ASSIGNEE_STEPS,
    STEP_ACTIONS,
    authorise,
    authorise_dossier,
    check_assignee,
    check_step,
    check_unit_allowed,
    check_visible,
)
from motcua.access.tokens import Principal
from motcua.actions import Action
from motcua.dossiers import CommandRejected
from motcua.eventstore import outbox
from motcua.eventstore.store import Conn, read_stream
from motcua.notify import notices
from motcua.problems import INVALID_TRANSITION, TOO_MANY_REQUESTS, Problem, invalid_input
from motcua.reports import register
from motcua.services import (
    after_end,
    counters,
    digitisation,
    engine,
    holders,
    idempotency,
    transfers,
)
from motcua.services.checks import check_receipt_time
from motcua.services.idempotency import Answer
from motcua.services.requests import (
    MAX_DOCUMENTS,
    ActionBody,
    ReceiveRequest,
    SubmitOnlineRequest,
)
from motcua.services.resources import Resources
from motcua.services.views import DossierView, PublicDossierView, RiskView, dossier_view
from motcua.whatif import forecast
from workflows import Acted


@dataclass(frozen=True)
class Caller:
    """Who sends a command and the request it came in: the principal (roles and unit scope;
    its name is the actor in the events), the correlation id written into the events, and
    the idempotency key (None: none sent, so a retry acts again)."""

    principal: Principal
    correlation_id: str
    idempotency_key: str | None = None
    # The citizen proved the receipt's lookup secret (`motcua.services.ratings`): a rating
    # then needs no kiosk's counter (`motcua.services.counters`).
    lookup_proven: bool = False


async def receive(res: Resources, caller: Caller, request: ReceiveRequest) -> Answer:
    """Receive a dossier: allocates its code, starts its workflow and answers 201 with the
    dossier and its due time. `original_received_at` imports a dossier already in progress."""
    authorise(caller.principal, "receive")
    now = datetime.now(UTC)
    procedure, today = _check_intake(res, caller.principal, request.unit_code,
                                     request.procedure_code, now)
    if request.original_received_at is not None:
        try:
            check_original_receipt(request.original_received_at, now)
        except InvalidCommand as err:
            raise invalid_input(err.details["field"], "must not be in the future") from None
        check_receipt_time(res.calendar, procedure, request.original_received_at,
                           "original_received_at")
    elif request.backdate_reason is not None:
        raise invalid_input("backdate_reason", "only with original_received_at")
    if len(request.documents) + len(request.papers) > MAX_DOCUMENTS:
        raise invalid_input("papers", f"at most {MAX_DOCUMENTS} papers in all")
    return await _start_dossier(res, caller, request, today, "receive", engine.receive)


async def submit_online(res: Resources, caller: Caller, request: SubmitOnlineRequest) -> Answer:
    """Record an online submission (the role that may receive): allocates its code and starts
    its workflow in state `submitted` (national code 1, awaiting acceptance). No due time runs
    until the intake clerk accepts it; the time then counts from the complete submission
    (Decree 297/2025 art. 3(5), 6(4)(a))."""
    authorise(caller.principal, "receive")
    _, today = _check_intake(res, caller.principal, request.unit_code, request.procedure_code,
                             datetime.now(UTC))
    # The number is in use from now on (its line is not void); the receipt itself is made
    # when the submission is accepted.
    return await _start_dossier(res, caller, request, today, "submit-online",
                                engine.submit_online)


def _check_intake(res: Resources, principal: Principal, unit_code: str, procedure_code: str,
                  now: datetime) -> tuple[Procedure, date]:
    """The checks a receipt and an online submission share (403/422 before a code is spent):
    the unit in the caller's scope and active today, the procedure known and not retired.
    Returns the procedure and the office date `now` falls on."""
    check_unit_allowed(principal, unit_code, "unit_code")
    catalog = res.catalog
    unit = catalog.units.get(unit_code)
    if unit is None:
        raise invalid_input("unit_code", f"unknown unit (catalog version {catalog.version})")
    today = res.calendar.local(now).date()  # the office date, in the calendar's zone
    if not unit.is_active_on(today):
        raise invalid_input("unit_code", "the unit does not accept dossiers today")
    procedure = catalog.procedures.get(procedure_code)
    if procedure is None:
        raise invalid_input("procedure_code",
                            f"unknown procedure (catalog version {catalog.version})")
    if procedure.is_retired:  # stays resolvable for old dossiers, takes no new receipt
        raise invalid_input("procedure_code", f"retired ({procedure.retired_source}); use "
                            f"{procedure.replaced_by}")
    return procedure, today


def _is_receipt_of(dossier: Dossier, command: cmd.ReceiveDossier | cmd.SubmitOnline) -> bool:
    """Whether `dossier` is the one `command` received or submitted (a retry included)."""
    channel = command.channel if isinstance(command, cmd.ReceiveDossier) else Channel.ONLINE
    return (dossier.unit_code, dossier.procedure_code, dossier.channel,
            dossier.applicant_name) == (command.unit_code, command.procedure_code,
                                        channel, command.applicant_name)


_Start = Callable[..., Awaitable[Dossier]]


async def _start_dossier(res: Resources, caller: Caller,
                         request: ReceiveRequest | SubmitOnlineRequest, today: date,
                         operation: str, start: _Start) -> Answer:
    """Allocate the code in the idempotency key's claim, start the workflow with `start`
    (`engine.receive` or `engine.submit_online`) and answer 201 with the dossier; a refusal
    voids the register line (the number stays, struck through)."""
    client = res.temporal()  # 503 before a code is spent
    pool, principal = res.db(), caller.principal

    async def allocate(conn: Conn) -> str:  # in the key's claim: see motcua.reports.register
        return await register.allocate(conn, request.unit_code, today,
                                       allocated_by=principal.name)

    async with idempotency.attempt(pool, principal=principal.name, key=caller.idempotency_key,
                                   operation=operation, allocate=allocate,
                                   body=request.model_dump(mode="json"),
                                   keyring=res.keyring) as attempt:
        if attempt.replay is not None:
            return attempt.replay
        code = attempt.dossier_code
        command = request.command(code=code, actor=principal.name,
                                  correlation_id=caller.correlation_id)
        # The lookup secret of a receipt (an online submission gets it when accepted): made
        # now, held sealed for the receipt notice before the workflow can emit its event.
        secret = lookup.new_secret() if operation == "receive" else None
        held = secret is not None and await _hold_for_notice(res, code, secret,
                                                             request.notify_by)
        try:
            dossier = await start(client, command, task_queue=res.settings.task_queue)
            if not _is_receipt_of(dossier, command):
                # The code already names another dossier (its workflow ignores this command
                # and answers with itself): e.g. a sequence restored from an older backup.
                raise Problem(INVALID_TRANSITION, f"the dossier {code} was already received "
                              "with other particulars; this "
                              f"{'receipt' if operation == 'receive' else 'submission'} was "
                              "not recorded", state=dossier.state_name)
        except Problem as problem:
            if held:
                await notices.drop_secret(pool, code)
            if problem.kind.status in (409, 422):  # refused: the number stays, struck through
                await register.void(pool, code, problem.detail)
                await attempt.refused(problem)
            raise
        await register.received(pool, code)
        view = await privacy.shown(pool, principal, dossier_view(dossier, await read_stream(
            pool, code)), what=operation)
        body = view.model_dump(mode="json")
        if secret is not None:
            body |= await _first_secret(res, principal, code, secret)
        return await attempt.respond(body, status_code=201)


async def _hold_for_notice(res: Resources, code: str, secret: str,
                           notify_by: Sequence[str]) -> bool:
    """Keep `secret` sealed for dossier `code`'s receipt notice when the citizen chose a
    channel and both the payload keys and the public address are set (else the notice links
    to the lookup page alone: `motcua.notify.notices`). Whether it was kept."""
    if not notify_by or res.keyring is None or not res.settings.public_url:
        return False
    await notices.hold_secret(res.db(), res.keyring, code, secret)
    return True


async def _first_secret(res: Resources, principal: Principal, code: str,
                        secret: str) -> dict[str, str]:
    """Make `secret` the one that opens dossier `code` (only its hash is kept) and return the
    answer's fields that carry it (issue 24 point 7: issued here, never on viewing)."""
    await lookup.store(res.db(), code, secret, issued_by=principal.name)
    return {"lookup_secret": secret,
            "lookup_url": lookup.lookup_url(code, secret, res.settings.public_url.rstrip("/"))}


async def act(res: Resources, caller: Caller, action: Action, code: str,
              body: ActionBody) -> Answer:
    """Run `action` on dossier `code` for the caller: the dossier after it. The Temporal
    update id is derived from the idempotency key, so Temporal itself deduplicates a retried
    update."""
    principal = caller.principal
    await authorise_dossier(res.db(), principal, action.name, code)
    body.check(res.calendar)
    fill = transfers.prepare(res, body)  # a transfer's unit and instants (issue 22 item 3)
    client = res.temporal()
    pool, key = res.db(), caller.idempotency_key
    before: list[EventEnvelope] | None = None
    accepting = action.name == "accept"  # an accepted submission gets its lookup secret
    if (action.name in ASSIGNEE_STEPS or action.name in STEP_ACTIONS
            or action.name in holders.HOLDER_ACTIONS or accepting):
        before = await read_stream(pool, code)
        if before:  # else the engine answers 404
            current = folded(before)
            if action.name in ASSIGNEE_STEPS:
                check_assignee(principal, action.name, current.assignee)
            check_step(principal, action.name, current)
            await holders.check_holder_change(pool, principal, action.name, current, body)
            await holders.check_step_receiver(pool, action.name, current, body)
            if action.name in STEP_ACTIONS:
                fill = transfers.for_step(res, current, fill)
            if digitisation.gated(action.name, current):
                # Issue 26: a procedure may require every paper scanned first (409 naming
                # the missing ones); the state's own refusal comes first.
                digitisation.check_assign(res.catalog, current.procedure_code, before)
    async with idempotency.attempt(pool, principal=principal.name, key=key,
                                   operation=action.name, code=code,
                                   body=body.model_dump(mode="json"),
                                   keyring=res.keyring) as attempt:
        if attempt.replay is not None:
            return attempt.replay
        if action.name == "rate" and counters.is_kiosk(principal) and not caller.lookup_proven:
            # After the replay: a form sent twice by the kiosk answers its first rating,
            # though the dossier is offered no more (issue 23 item 12).
            await counters.check_kiosk(pool, principal, code)
        command = fill(body.command(actor=principal.name, correlation_id=caller.correlation_id))
        secret = None
        if accepting and before and holders.accepts(folded(before), cmd.AcceptSubmission):
            secret = lookup.new_secret()  # held for the acceptance notice before it can exist
            await _hold_for_notice(res, code, secret, getattr(before[0].event, "notify_by", ()))
        # The stream so far is read while the update runs (unless read above): the update
        # answers with the events it stored, so the timeline needs no read after it.
        reading = asyncio.ensure_future(
            read_stream(pool, code) if before is None else _given(before))
        try:
            acted = await engine.act(client, code, action.name, command,
                                     update_id=f"{principal.name}:{key}" if key else None)
        except engine.WorkflowNotFound:
            events = await reading
            if not events:
                raise engine.not_found() from None
            closed = folded(events)
            check_visible(principal, closed)
            if action.command not in after_end.AFTER_END:
                # The precise refusal when the domain has one (a second rating: already
                # rated), else that its workflow has ended.
                refusal = refusal_after_end(closed, action.command)
                raise engine.rejection(CommandRejected(
                    refusal.type, refusal.message,
                    {"state": closed.state_name, **refusal.details})) from None
            # A complaint after the end (issue 23 item 1): appended beside no workflow.
            acted = await after_end.record(pool, code, command)
        except BaseException:
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
            raise
        stream = stream_after(await reading, acted)
        if stream is None:  # an event stored meanwhile was not in the read: read it all now
            stream = await read_stream(pool, code)
        view = await privacy.shown(pool, principal, dossier_view(acted.state, stream),
                                   what=f"action:{action.name}")
        answer = view.model_dump(mode="json")
        if secret is not None:
            answer |= await _first_secret(res, principal, code, secret)
        return await attempt.respond(answer)


async def _given(events: list[EventEnvelope]) -> list[EventEnvelope]:
    return events


def stream_after(read: list[EventEnvelope], acted: Acted) -> list[EventEnvelope] | None:
    """The stream after the update: `read` (taken before or while it ran) with the events it
    appended, or None when they do not make up positions 1..n through the update's own."""
    by_position = {e.position: e for e in read}
    by_position.update((e.position, e) for e in acted.appended)
    events = [by_position[p] for p in sorted(by_position)]
    complete = [e.position for e in events] == list(range(1, len(events) + 1))
    return events if complete and len(events) >= acted.state.version else None


async def view(res: Resources, principal: Principal, code: str) -> DossierView:
    """One dossier with its timeline, read from the event store (current at once), with the
    notification outcomes and the forecast of finishing late; 404 outside the principal's
    scope, as if absent."""
    pool = res.db()
    await authorise_dossier(pool, principal, "read", code)
    events = await read_stream(pool, code)
    if not events:
        raise engine.not_found()
    dossier = folded(events)
    check_visible(principal, dossier)
    # Notification outcomes live in the dispatcher's table, not in the stream.
    shown = dossier_view(dossier, events, deliveries=await outbox.deliveries(pool, code))
    risk = forecast.dossier_risk(res.calendar, dossier, datetime.now(UTC))
    shown.sla.risk = RiskView(**risk.as_dict()) if risk is not None else None
    return await privacy.shown(pool, principal, shown, what="detail")


async def look_up(res: Resources, client: str, code: str, secret: str) -> PublicDossierView | None:
    """The citizen's lookup (`motcua.lookup`) for `client` (an address), within its rate limit
    (429 with `Retry-After` beyond it): the public view when `secret` opens dossier `code`,
    else None (an unknown code and a wrong secret alike)."""
    wait = res.lookup_limiter.check(client)
    if wait is not None:
        raise Problem(TOO_MANY_REQUESTS, f"too many lookups; retry in {wait} s",
                      headers={"Retry-After": str(wait)})
    return await lookup.find(res.db(), code, secret[:64], res.catalog, res.calendar.tz)
