"""The dossier page offers exactly the commands the engine accepts (issue 21 item 2): for every
state (and the once-only variants: extended, verified, rated, past the rating window), every
actor (each set of roles x assignee or not x own unit, other unit or every unit) and a
procedure with and without a verification maximum, the page's offer is compared with what
the engine answers: the API's checks (roles from the action table, unit scope, the assignee
rule), the end of the dossier's life, `decide` on a valid command, and the worker's deadline
computation for a verification. No stack: the engine's rules are pure.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain import commands as cmd
from domain import permits, steps
from domain.calendar import Calendar
from domain.catalog import Catalog, NoVerificationMaximum
from domain.deadlines import compute, deadline_reason, request_for
from domain.decide import decide
from domain.dossier import RATING_WINDOW, Dossier, fold
from domain.errors import DomainError
from domain.states import Channel, DossierState, Satisfaction
from motcua.access.permissions import PERMISSIONS, STEP_ACTIONS, check_assignee, check_step
from motcua.access.tokens import Principal, Role
from motcua.access.users import Session, User
from motcua.actions import ACTIONS, BY_COMMAND
from motcua.catalog.calendar import load_calendar
from motcua.catalog.source import load_catalog
from motcua.console import dossier as page
from motcua.problems import Problem

VN = ZoneInfo("Asia/Ho_Chi_Minh")
T0 = datetime(2025, 7, 7, 9, 0, tzinfo=VN)
UNIT = "000.21.39.H39"
OTHER = "000.00.15.H39"  # the unit a dossier is transferred to
WITH_MAXIMUM, WITHOUT_MAXIMUM = "2.000806", "1.004222"  # Decree 120/2025: 05 days, up to 10
WITH_STEPS = "1.004944"  # Cao Bằng 2022/QĐ-UBND: seven steps (issue 22)
ASSIGNEE = "can-bo-a"


class Engine:
    """Runs commands as the workflow does (decide, a new deadline where the events call for
    one, fold), in process."""

    def __init__(self, cal: Calendar, catalog: Catalog) -> None:
        self.cal, self.catalog = cal, catalog

    def run(self, d: Dossier, command: cmd.Command, at: datetime) -> Dossier:
        events = decide(d, command, at)
        state = fold(events, d)
        reason = deadline_reason(command, events)
        if reason is not None:
            r = compute(self.cal, self.catalog, request_for(state))
            state = fold(decide(state, cmd.SetDeadline(
                reason=reason, due_at=r.due_at, due_soon_at=r.due_soon_at, rule=r.rule,
                amount=r.amount, unit=r.unit, calendar_version=r.calendar_version,
                catalog_version=r.catalog_version, rule_version=r.rule_version,
                rule_source=r.rule_source, legal_due_at=r.legal_due_at), at), state)
        proc = self.catalog.procedure(state.procedure_code)
        if reason == "receipt" and proc.steps is not None:  # the plan (`plan_steps`)
            more = decide(state, cmd.BeginSteps(plan=steps.plan_for(
                proc.steps, state.unit_code, carry_over=False)), at)
            events, state = [*events, *more], fold(more, state)
        request = steps.due_request(state, events)
        if request is not None:  # the step activity (`step_due`)
            due = steps.run_due(self.cal, request)
            state = fold(decide(state, cmd.SetStepDue(
                step=state.step_runs[-1].step, due_at=due.due_at, due_soon_at=due.due_soon_at,
                credit_seconds=due.credit_seconds), at), state)
        return state


def _paths(procedure: str) -> dict[str, list[cmd.Command]]:
    """Command sequences leading to each state and variant worth walking."""
    receive = cmd.ReceiveDossier(code=f"{UNIT}-250707-0001", unit_code=UNIT,
                                 procedure_code=procedure, channel=Channel.COUNTER,
                                 applicant_name="Nguyễn Văn A")
    submit = cmd.SubmitOnline(code=f"{UNIT}-250707-0001", unit_code=UNIT,
                              procedure_code=procedure, applicant_name="Nguyễn Văn A")
    assign = cmd.AssignOfficer(officer=ASSIGNEE)
    start = cmd.StartProcessing()
    processing = [receive, assign, start]
    ready = [*processing, cmd.CompleteProcessing(summary="xong")]
    returned = [*ready, cmd.ReturnResult()]
    return {
        "submitted": [submit],
        "awaiting_intake_supplement": [submit, cmd.RequestIntakeSupplement(reason="thiếu")],
        "refused_at_intake": [submit, cmd.RefuseAtIntake(reason="không đủ điều kiện")],
        "accepted": [submit, cmd.AcceptSubmission()],
        "received": [receive],
        "assigned": [receive, assign],
        "processing": processing,
        "processing_extended": [*processing, cmd.ExtendDeadline(
            reason="xin lỗi", new_due_at=datetime(2025, 7, 30, 16, 0, tzinfo=VN))],
        "processing_verified": [*processing, cmd.RequireVerification(reason="xác minh")]
        if procedure == WITH_MAXIMUM else processing,
        "awaiting_supplement_unassigned": [receive, cmd.RequestSupplement(reason="thiếu")],
        "awaiting_supplement": [*processing, cmd.RequestSupplement(reason="thiếu")],
        "ready": ready,
        "returned": returned,
        "returned_rated": [*returned, cmd.RateService(satisfaction=Satisfaction.SATISFIED)],
        "refused": [receive, cmd.RefuseDossier(reason="không thuộc thẩm quyền")],
        "withdrawn": [receive, cmd.WithdrawDossier(reason="rút")],
        "stopped": [*processing, cmd.StopProcessing(reason="dừng")],
        # Internal procedures (only a procedure with steps walks them): at the leader's
        # step, at the officer's (handed to the assignee), at the leader's review, and sent
        # back from it.
        **({"at_leader_step": [receive, cmd.HandOverStep()],
            "at_officer_step": [receive, cmd.HandOverStep(), assign],
            "at_review_step": [receive, cmd.HandOverStep(), assign, start, cmd.HandOverStep()],
            "sent_back": [receive, cmd.HandOverStep(), assign, start, cmd.HandOverStep(),
                          cmd.SendBackStep(reason="sửa lại")],
            "at_return_step": [receive, cmd.HandOverStep(), assign, start,
                               *[cmd.HandOverStep()] * 4, cmd.CompleteProcessing(summary="x")]}
           if procedure == WITH_STEPS else {}),
        # Issue 22 items 3-4: held by another unit (processing there), returned from it, the
        # result come back; waiting for payment.
        "transferred": [receive, cmd.TransferDossier(unit_code=OTHER, reason="liên thông")],
        "transferred_processing": [receive, cmd.TransferDossier(unit_code=OTHER, reason="lt"),
                                   assign, start],
        "transfer_returned": [receive, cmd.TransferDossier(unit_code=OTHER, reason="lt"),
                              cmd.ReturnTransfer(reason="không đủ điều kiện")],
        "transferred_ready": [receive, cmd.TransferDossier(unit_code=OTHER, reason="lt"),
                              assign, start, cmd.CompleteProcessing(summary="xong")],
        "awaiting_payment": [*processing, cmd.RequestPayment(notice="Thông báo thuế")],
        "paid": [*processing, cmd.RequestPayment(notice="Thông báo thuế"),
                 cmd.ReceivePayment(amount=100000)],
    }


# A valid command per action (what a form that passes the API's schema sends).
SAMPLES: dict[str, Callable[[Dossier], cmd.Command]] = {
    "accept": lambda d: cmd.AcceptSubmission(),
    "request-intake-supplement": lambda d: cmd.RequestIntakeSupplement(reason="thiếu"),
    "intake-supplement": lambda d: cmd.ProvideIntakeSupplement(),
    "refuse-intake": lambda d: cmd.RefuseAtIntake(reason="không đủ"),
    "assign": lambda d: cmd.AssignOfficer(officer=ASSIGNEE),
    "start": lambda d: cmd.StartProcessing(),
    "request-supplement": lambda d: cmd.RequestSupplement(reason="thiếu"),
    "supplement": lambda d: cmd.ProvideSupplement(),
    "complete": lambda d: cmd.CompleteProcessing(summary="xong"),
    "return": lambda d: cmd.ReturnResult(),
    "refuse": lambda d: cmd.RefuseDossier(reason="từ chối"),
    "withdraw": lambda d: cmd.WithdrawDossier(reason="rút"),
    "stop": lambda d: cmd.StopProcessing(reason="dừng"),
    "extend": lambda d: cmd.ExtendDeadline(
        reason="xin lỗi", new_due_at=(d.due_at or T0) + timedelta(days=7)),
    "rate": lambda d: cmd.RateService(satisfaction=Satisfaction.SATISFIED),
    "verification": lambda d: cmd.RequireVerification(reason="xác minh"),
    "complaint": lambda d: cmd.RecordComplaint(complainant="B", channel="counter",
                                               text="chậm"),
    "hand-over": lambda d: cmd.HandOverStep(),
    "send-back": lambda d: cmd.SendBackStep(reason="sửa lại"),
    "transfer": lambda d: cmd.TransferDossier(
        unit_code=UNIT if d.holding_unit_code != UNIT else OTHER, reason="liên thông"),
    "return-transfer": lambda d: cmd.ReturnTransfer(reason="không đủ điều kiện"),
    "request-payment": lambda d: cmd.RequestPayment(notice="Thông báo thuế", amount=100000),
    "payment-received": lambda d: cmd.ReceivePayment(amount=100000, reference="BL-1"),
    "record-fee": lambda d: cmd.RecordFee(amount=50000),
}

# What the receiving unit's staff may still send while another unit holds the dossier.
COUNTER = {"withdraw", "complaint", "payment-received", "record-fee"}


def engine_accepts(engine: Engine, d: Dossier, action: str, who: Principal,
                   now: datetime) -> bool:
    """What the API and the engine answer to `action` sent by `who` at `now`."""
    if not who.roles & PERMISSIONS[action]:
        return False  # 403 from `require`
    unit, holder = who.unit_code, d.holding_unit_code
    if unit is not None and unit != holder and not (unit == d.unit_code and action in COUNTER):
        return False  # 404 outside both units, 403 to the receiving unit (issue 22 item 3)
    try:
        check_assignee(who, action, d.assignee)
        # The step rules: who hands on a step, and (issue 23's office day) no completion
        # before the walk has passed its last leader's step (`permits.step_refusal`).
        if action in STEP_ACTIONS or action == "complete":
            check_step(who, action, d)
    except Problem:
        return False
    # The workflow has ended: 409 from the stored events, except a complaint, appended
    # beside it (issue 23 item 1, motcua/services/after_end.py, by the same `decide`).
    if d.ended(now) and type(SAMPLES[action](d)) not in permits.AFTER_END:
        return False
    try:
        engine.run(d, SAMPLES[action](d), now)
    except (DomainError, NoVerificationMaximum):
        return False
    return True


ROLE_SETS = [frozenset(c) for n in range(len(Role) + 1) for c in itertools.combinations(Role, n)]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_calendar(), load_catalog())


def test_every_http_action_has_a_sample_and_a_label() -> None:
    """The walk below covers every action a person can send."""
    # attach-file is a multipart upload with its own form (console/files.py, its browser test);
    # lookup-secret a reprint with a reason (the receipt's own form).
    assert set(SAMPLES) == set(PERMISSIONS) - {"read", "receive", "report", "attach-file",
                                               "lookup-secret"}
    assert set(SAMPLES) <= set(page.ACTION_LABELS)
    assert all(ACTIONS[a].roles for a in SAMPLES)


@pytest.mark.parametrize("procedure", [WITH_MAXIMUM, WITHOUT_MAXIMUM, WITH_STEPS])
def test_the_page_offers_exactly_what_the_engine_accepts(
        engine: Engine, procedure: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every state x actor: offered <=> accepted, for each action; the usual step first."""
    states_seen: set[DossierState] = set()
    mismatches: list[str] = []
    for variant, path in _paths(procedure).items():
        d, at = Dossier(), T0
        for command in path:
            d = engine.run(d, command, at)
            at += timedelta(minutes=5)
        assert d.state is not None
        states_seen.add(d.state)
        instants = [at]
        if d.state is DossierState.RETURNED and d.closed_at is not None:
            instants.append(d.closed_at + RATING_WINDOW)  # the rating window has passed
        for now, roles, name, unit in itertools.product(
                instants, ROLE_SETS, [ASSIGNEE, "nguoi-khac"],
                [UNIT, OTHER, "000.99.99.X99", None]):
            monkeypatch.setattr(page, "now", lambda now=now: now)
            user = User(username=name, full_name="", roles=roles, unit_code=unit)
            offered = page.allowed_actions(Session(user=user, csrf_token="x"), d,
                                           verifiable=procedure == WITH_MAXIMUM)
            for action in SAMPLES:
                accepted = engine_accepts(engine, d, action, user.principal, now)
                if (action in offered) != accepted:
                    mismatches.append(
                        f"{variant} {sorted(roles)} {name} unit={unit} at={now:%Y-%m-%d}: "
                        f"{action} {'offered' if action in offered else 'hidden'} but "
                        f"{'accepted' if accepted else 'refused'}")
            usual = permits.USUAL_NEXT.get(d.state)
            if usual is not None and BY_COMMAND[usual].name in offered:
                assert offered[0] == BY_COMMAND[usual].name, (variant, offered)
    assert not mismatches, "\n".join(mismatches[:40])
    assert states_seen == set(DossierState)


def test_the_old_drift_is_gone(engine: Engine) -> None:
    """The page offered withdraw while ready and extend while awaiting a supplement (both
    refused by the engine) and hid request-supplement while received or assigned (accepted)."""
    leader = Session(user=User(username="lanh-dao", full_name="", unit_code=UNIT,
                               roles=frozenset({Role.LEADER, Role.CLERK})), csrf_token="x")
    paths = _paths(WITHOUT_MAXIMUM)

    def state(variant: str) -> Dossier:
        d, at = Dossier(), T0
        for command in paths[variant]:
            d = engine.run(d, command, at)
            at += timedelta(minutes=5)
        return d

    assert "withdraw" not in page.allowed_actions(leader, state("ready"), verifiable=False)
    assert "extend" not in page.allowed_actions(leader, state("awaiting_supplement"),
                                                verifiable=False)
    for variant in ("received", "assigned"):
        assert "request-supplement" in page.allowed_actions(leader, state(variant),
                                                            verifiable=False)
    assert page.allowed_actions(leader, state("received"), verifiable=False)[0] == "assign"


def test_complaints_after_the_end_and_the_clerk_at_the_counter(engine: Engine) -> None:
    """Issue 23 items 1 and 7: a complaint is offered on every ended dossier (refused,
    withdrawn, stopped, rated) to the clerk and the leader, and nothing else is; the clerk
    records the supplement a citizen brings to the counter, on a dossier assigned to someone
    else, while another officer still may not."""
    paths = _paths(WITHOUT_MAXIMUM)
    clerk = Session(user=User(username="mot-cua", full_name="", unit_code=UNIT,
                              roles=frozenset({Role.CLERK})), csrf_token="x")
    officer = Session(user=User(username="nguoi-khac", full_name="", unit_code=UNIT,
                                roles=frozenset({Role.OFFICER})), csrf_token="x")

    def state(variant: str) -> Dossier:
        d, at = Dossier(), T0
        for command in paths[variant]:
            d = engine.run(d, command, at)
            at += timedelta(minutes=5)
        return d

    for variant in ("refused", "withdrawn", "stopped", "returned_rated", "refused_at_intake"):
        d = state(variant)
        assert d.ended(T0 + timedelta(days=1))
        assert page.allowed_actions(clerk, d, verifiable=False) == ["complaint"], variant
    waiting = state("awaiting_supplement")
    assert waiting.assignee == ASSIGNEE
    assert page.allowed_actions(clerk, waiting, verifiable=False)[0] == "supplement"
    assert "supplement" not in page.allowed_actions(officer, waiting, verifiable=False)
