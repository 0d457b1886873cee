"""Biểu 06 / Decision 766 facts for online intake (issue 11 points 7-8), without a database:
a submission awaiting acceptance is not received; an accepted one is received on the date of
acceptance, judged against the due time counted from the complete submission; a refusal at
intake or a withdrawal before acceptance is neither received nor resolved (our reading)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from domain import commands as cmd
from domain import events as ev
from domain.decide import decide
from domain.dossier import Dossier, evolve
from domain.states import Channel
from motcua.eventstore.reporting import Applied, Fact, advance, contributions

VN = ZoneInfo("Asia/Ho_Chi_Minh")
SUBMITTED_AT = datetime(2026, 11, 27, 16, 0, tzinfo=VN)  # Friday


def _fact_after(commands: list[tuple[cmd.Command, datetime]]) -> tuple[Fact | None, Dossier]:
    """Fold the events the commands cause, advancing the report fact as the projector does."""
    state, fact = Dossier(), None
    for command, at in commands:
        events: list[ev.Event] = decide(state, command, at)
        if isinstance(command, cmd.AcceptSubmission):  # the workflow's receipt deadline
            events.append(ev.DeadlineSet(
                at=at, version=1, due_at=datetime(2026, 12, 2, 17, tzinfo=VN),
                due_soon_at=datetime(2026, 12, 1, 17, tzinfo=VN), reason="receipt",
                rule="civil_code", amount=3, unit="working_days", calendar_version="c",
                catalog_version="k", rule_version=2))
        for event in events:
            after = evolve(state, event)
            fact = advance(fact, Applied(event, state, after), VN)
            state = after
    return fact, state


SUBMIT = cmd.SubmitOnline(code="000.21.39.H39-261127-0002", unit_code="000.21.39.H39",
                          procedure_code="1.004873", applicant_name="Phạm Thị Dung")


def test_a_submission_awaiting_acceptance_is_not_received() -> None:
    fact, state = _fact_after([(SUBMIT, SUBMITTED_AT)])
    assert fact is None and state.received_at is None


def test_an_accepted_submission_is_received_on_the_acceptance_date() -> None:
    accepted = datetime(2026, 11, 30, 9, 0, tzinfo=VN)  # Monday
    fact, state = _fact_after([(SUBMIT, SUBMITTED_AT), (cmd.AcceptSubmission(), accepted)])
    assert fact is not None and fact.channel == Channel.ONLINE.value
    assert state.received_at == accepted and state.counted_from == SUBMITTED_AT
    assert fact.received_day == date(2026, 11, 30)
    assert (date(2026, 11, 30), "recv_online", 1) in list(contributions(fact))
    assert fact.resolved_day is None and fact.overdue_from == date(2026, 12, 2)
    # Finished the day after the due date: late, judged against the due time it was given.
    fact, _ = _fact_after([(SUBMIT, SUBMITTED_AT), (cmd.AcceptSubmission(), accepted),
                           (cmd.AssignOfficer(officer="o-1"), accepted),
                           (cmd.StartProcessing(), accepted),
                           (cmd.CompleteProcessing(summary="xong"),
                            datetime(2026, 12, 3, 9, tzinfo=VN))])
    assert fact is not None and fact.timeliness == "late"


def test_refused_at_intake_or_withdrawn_before_acceptance_is_never_counted() -> None:
    later = SUBMITTED_AT + timedelta(hours=1)
    for closing in (cmd.RefuseAtIntake(reason="Không thuộc thẩm quyền"),
                    cmd.WithdrawDossier(reason="Nộp nhầm", stop_notice=True)):
        fact, state = _fact_after([(SUBMIT, SUBMITTED_AT),
                                   (cmd.RequestIntakeSupplement(reason="thiếu"), later),
                                   (closing, later)])
        assert fact is None, closing
        assert state.state is not None and state.state.is_terminal
