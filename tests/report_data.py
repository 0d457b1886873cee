"""Dossiers for the SLA report tests, and their count by hand.

48 dossiers of two invented units (`999.0x.99.H99`) received in the first months of 2021, one
of every kind of life (early, on time, late, withdrawn after the due date, refused, stopped,
supplement pause, second supplement request, extension, calendar correction, still open,
still paused, withdrawn while paused), built with `decide` and stored as real events. The
count by hand folds each stream and applies the report's definitions directly.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from domain import commands as cmd
from domain import events as ev
from domain.decide import decide
from domain.dossier import Dossier, evolve
from domain.envelope import EventEnvelope
from domain.states import Channel, Satisfaction
from motcua.eventstore import projector, store
from motcua.reports.sla import COUNTS, Report

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
UNITS = ("999.01.99.H99", "999.02.99.H99")
PROCS = ("9.000001", "9.000002")
NOW = date(2021, 5, 10)  # the data's "today": every event happened before it
KINDS = ("early", "on_time", "late", "withdrawn_late", "refused", "stopped", "supplement",
         "second_supplement", "open", "paused", "extended", "paused_withdrawn", "corrected")
Step = tuple[datetime, cmd.Command | Callable[[Dossier], cmd.Command]]


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)


def office_day(t: datetime) -> date:
    return t.astimezone(TZ).date()


def deadline(due: datetime, reason: str) -> cmd.SetDeadline:
    return cmd.SetDeadline(due_at=due, due_soon_at=due - timedelta(days=1), reason=reason,
                           rule="civil_code", amount=3, unit="working_days",
                           calendar_version="c1", catalog_version="k1")


def after_pause(s: Dossier) -> cmd.SetDeadline:
    """The workflow's new due time once the papers arrive: the pause added back."""
    assert s.due_at is not None
    pause = s.pauses[-1]
    return deadline(s.due_at + (pause.end - pause.start), "supplement_received")


def script(kind: str, d0: date, k: int) -> list[Step]:
    """The commands of one dossier's life, by kind."""
    def day(n: int, hour: int = 10) -> datetime:
        return at(d0 + timedelta(days=n), hour)
    due = day(k, 17)
    steps: list[Step] = [(day(0, 9), deadline(due, "receipt")),
                         (day(0, 10), cmd.AssignOfficer(officer="o-1")),
                         (day(0, 11), cmd.StartProcessing())]
    done = [cmd.CompleteProcessing(summary="xong"), cmd.ReturnResult()]
    ask, give = cmd.RequestSupplement(reason="thiếu giấy"), cmd.ProvideSupplement()
    rate = {"early": Satisfaction.VERY_SATISFIED, "on_time": Satisfaction.SATISFIED,
            "late": Satisfaction.NOT_SATISFIED}
    more: dict[str, list[Step]] = {
        "early": [(day(k - 2), done[0]), (day(k - 1), done[1]),
                  # a complaint on a dossier rated very satisfied: item 5.4 still counts it
                  (day(k - 1, 15), cmd.RecordComplaint(complainant="Lê Văn Cường",
                                                       channel="hotline", text="chậm gọi"))],
        "on_time": [(day(k), done[0]), (day(k + 1), done[1])],
        "late": [(day(k + 3), done[0]), (day(k + 3, 15), done[1])],
        "withdrawn_late": [(day(k + 2), cmd.WithdrawDossier(reason="xin rút"))],
        "refused": [(day(1), cmd.RefuseDossier(reason="sai thẩm quyền"))],
        "stopped": [(day(k + 1), cmd.StopProcessing(reason="dừng"))],
        "supplement": [(day(1), ask), (day(11), give), (day(11, 11), after_pause),
                       (day(k + 9), done[0])],
        "second_supplement": [(day(1), ask), (day(2), give), (day(2, 11), after_pause),
                              (day(3), ask), (day(4), give), (day(4, 11), after_pause),
                              (day(k - 1), done[0])],
        "paused": [(day(1), ask)],
        "extended": [(day(k - 1), cmd.ExtendDeadline(reason="xác minh", new_due_at=due
                                                     + timedelta(days=7))),
                     (day(k - 1, 11), deadline(due + timedelta(days=7), "extension")),
                     (day(k + 4), done[0])],
        "paused_withdrawn": [(day(1), ask), (day(k + 5), cmd.WithdrawDossier(reason="rút"))],
        "corrected": [(day(0, 15), deadline(due - timedelta(days=1), "calendar_correction")),
                      (day(k), done[0])],
    }
    steps += more.get(kind, [])
    if kind in rate:
        steps.append((day(k + 5), cmd.RateService(satisfaction=rate[kind])))
    return steps


def build(code: str, unit: str, proc: str, channel: Channel, d0: date,
          steps: list[Step]) -> list[ev.Event]:
    """The events `decide` gives for the steps that happened before NOW."""
    state, out = Dossier(), []
    receive = cmd.ReceiveDossier(code=code, unit_code=unit, procedure_code=proc,
                                 channel=channel, applicant_name="Lê Văn Cường")
    for when, step in [(at(d0, 8), receive), *steps]:
        if when >= at(NOW, 0):
            break
        for event in decide(state, step(state) if callable(step) else step, when):
            state = evolve(state, event)
            out.append(event)
    return out


def dossiers() -> dict[str, list[ev.Event]]:
    """48 dossiers over two units, two procedures, three channels and every kind."""
    rng = random.Random(2021)
    out = {}
    for i in range(48):
        unit, d0 = UNITS[i % 2], date(2021, 1, 4) + timedelta(days=rng.randrange(122))
        code = f"{unit}-{d0:%y%m%d}-{i + 1:04d}"
        out[code] = build(code, unit, PROCS[(i // 2) % 2], list(Channel)[i % 3], d0,
                          script(KINDS[i % len(KINDS)], d0, 3 + i % 7))
    return out


@dataclasses.dataclass
class Hand:
    """One dossier as counted by hand."""

    unit: str
    proc: str
    online: bool
    received: date
    resolved: date | None = None
    timeliness: str | None = None
    judged: Dossier | None = None  # the state overdue is judged on
    late_day: date | None = None
    rated: tuple[date, str] | None = None
    unhappy: date | None = None  # first complaint or not-satisfied rating (766 item 5.4)
    closed: bool = False  # ended without a result (refused, withdrawn, stopped)

    def overdue(self, cutoff: date) -> bool:
        """Still in progress at the end of `cutoff`, would it count as overdue?"""
        s = self.judged
        assert s is not None
        if self.late_day is not None and self.late_day <= cutoff:
            return True
        if s.due_at is None or (s.paused_at is not None and s.paused_at < s.due_at):
            return False
        return office_day(s.due_at) <= cutoff


def by_hand(events: list[ev.Event]) -> Hand:
    state = Dossier()
    for e in events:
        before, state = state, evolve(state, e)
        if isinstance(e, ev.DossierReceived):
            h = Hand(e.unit_code, e.procedure_code, e.channel is Channel.ONLINE,
                     office_day(e.at))
        if isinstance(e, ev.SupplementRequested) and e.counts_as_late and not h.late_day:
            h.late_day = office_day(e.at)
        if isinstance(e, ev.ServiceRated):
            h.rated = (office_day(e.at), e.satisfaction.value)
        unhappy = isinstance(e, ev.ComplaintRecorded) or (
            isinstance(e, ev.ServiceRated) and e.satisfaction.value == "not_satisfied")
        if unhappy and h.unhappy is None:
            h.unhappy = office_day(e.at)
        closing = (ev.ResultReady, ev.DossierRefused, ev.DossierWithdrawn, ev.ProcessingStopped)
        if h.resolved is None and isinstance(e, closing):
            h.resolved, h.judged = office_day(e.at), before
            if isinstance(e, ev.ResultReady):
                h.timeliness = e.timeliness.value
            elif before.judged_due_at is None:
                h.timeliness = "on_time"
            else:  # refusal, stop and withdrawal alike (Decision 766; issue 11 point 6)
                end, due = office_day(e.at), office_day(before.judged_due_at)
                # Definition 2026-12.1: an end without a result is never early.
                h.timeliness = ("late" if before.late_by_supplement or end > due
                                else "on_time")
            h.closed = not isinstance(e, ev.ResultReady)
    h.judged = h.judged or state
    return h


def count_by_hand(hands: list[Hand], start: date, end: date, as_of: date, unit: str | None,
                  proc: str | None, group_by: tuple[str, ...]) -> dict[tuple[str | None, ...],
                                                                      Counter[str]]:
    cutoff = min(end, as_of - timedelta(days=1))
    out: dict[tuple[str | None, ...], Counter[str]] = {}
    for h in hands:
        if unit not in (None, h.unit) or proc not in (None, h.proc):
            continue
        key = (h.unit if "unit" in group_by else unit,
               h.proc if "procedure" in group_by else proc)
        n = out.setdefault(key, Counter())
        if start <= h.received <= end:
            n["received_online" if h.online else "received_direct_postal"] += 1
        n["received_carried_over"] += h.received < start and (h.resolved or end) >= start
        if h.resolved and start <= h.resolved <= end:
            n[f"resolved_{h.timeliness}"] += 1
            n["resolved_without_result"] += h.closed
        open_at_end = h.received <= end and (h.resolved is None or h.resolved > end)
        n["in_progress_total"] += open_at_end
        n["in_progress_overdue"] += open_at_end and h.overdue(cutoff)
        if h.rated and start <= h.rated[0] <= end:
            n[f"rated_{h.rated[1]}"] += 1
        if h.unhappy and start <= h.unhappy <= end:
            n["complained_or_not_satisfied"] += 1
    return {k: +v for k, v in out.items() if +v}


def counted(report: Report) -> dict[tuple[str | None, ...], Counter[str]]:
    """The report's rows as the same counters (zero columns dropped)."""
    return {(r.unit_code, r.procedure_code): +Counter(
        {c: v for c, v in r.as_dict().items() if c in (*COUNTS, "in_progress_total",
                                                     "resolved_without_result")})
        for r in report.rows if any(getattr(r, c) for c in COUNTS)}


def envelopes(code: str, events: list[ev.Event]) -> list[EventEnvelope]:
    return [EventEnvelope(event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{code}/{i}")),
                          stream=code, position=i,
                          event_type=e.event_type, schema_version=e.schema_version,
                          payload=ev.to_payload(e), metadata={"actor": "test"},
                          recorded_at=e.at) for i, e in enumerate(events, 1)]


@pytest.fixture(scope="module")
async def data(pool: asyncpg.Pool) -> dict[str, Hand]:
    """The dossiers appended as real events (event ids fixed, so a second module's append is
    a no-op) and projected in batches of 7 events (so most dossiers change over several
    batches); returns each one counted by hand."""
    streams = dossiers()
    async with pool.acquire() as conn:
        for code, events in streams.items():
            await store.append(conn, code, envelopes(code, events))
        while await projector.project_batch(conn, limit=7, count_metrics=False):
            pass
    return {code: by_hand(events) for code, events in streams.items()}
