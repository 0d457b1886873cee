"""Synthetic history for the reports benchmark: N dossiers over the two years up to today, as
real events (built with `decide`, the workflow's own rules) and the read models the projector
would derive from them, loaded with COPY.

Each dossier's life is one of a few kinds (done, done and rated, refused, withdrawn,
supplement loop, still open), received on a working day by one of the catalog's units for one
of its procedures, under that procedure's time in the catalog (its reduced time, unit and
counting rule). A dossier that is done took a number of working days drawn from a log-normal
spread around its procedure's own pace (a share of its time, 0.25 to 0.6, drawn once per
procedure): most finish early, some on the due date, a few late, more so for the slower
procedures, so what-if, recommend and the forecast measure something real. A life is built
once per (kind, receipt day, procedure time, working days taken) as a template, by `decide`
and `evolve`, with its `dossiers` row (the projector's own `_row`) and its `report_facts` row
(the projector's own `reporting.advance`, event by event); every dossier of that template is
the same text with its code, unit and procedure put in. So the events, the read model and
the report facts agree exactly; `report_counts` is then computed from the facts in SQL
(`reporting.recount`, checked by the report tests to equal the projector's incremental
counts), and the projection checkpoint is set past the last event.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from domain import commands as cmd
from domain import events as ev
from domain.calendar import Calendar
from domain.clock import add_working_time, due_at, due_soon_at, working_time_between
from domain.codes import format_code
from domain.decide import decide
from domain.dossier import Dossier, evolve
from domain.states import AlertKind, Channel, Satisfaction
from motcua.catalog.source import load_catalog
from motcua.eventstore import reporting
from motcua.eventstore.projector import _row
from motcua.whatif.simulate import Clock, WorkdayIndex, in_force

T_UNIT, T_PROC = "999.99.99.Z99", "9.999999"
KINDS = {"done": 66, "rated": 14, "refused": 3, "withdrawn": 2, "supplement": 10, "stopped": 1}
SPREAD = 0.3  # sigma of log(working days taken / time allowed) around a procedure's pace
OPEN_DAYS = 10  # dossiers received in the last days are mostly still open
EVENT_COLUMNS = ["stream", "position", "event_id", "event_type", "schema_version", "payload",
                 "metadata", "recorded_at"]
FACT_COLUMNS = list(reporting.FACT_COLUMNS)
METADATA = json.dumps({"actor": "bench", "causation": "bench"})


@dataclasses.dataclass
class Template:
    code: str
    events: list[tuple[str, int, str, datetime, bool]]  # type, version, payload, at, has code
    row: tuple[Any, ...]
    fact: reporting.Fact | None
    is_open: bool
    queue_row: tuple[Any, ...] | None


class Generator:
    """Dossiers for `today - 2 years .. today`, reproducible from `seed`."""

    def __init__(self, cal: Calendar, today: date, seed: int = 766) -> None:
        self.cal, self.today, self.rng = cal, today, random.Random(seed)
        catalog = load_catalog()
        self.units = sorted(catalog.units)
        self.procedures = sorted(catalog.procedures)
        first = today - timedelta(days=730)
        self.days = [first + timedelta(days=i) for i in range(730)
                     if cal.is_working_day(first + timedelta(days=i))]
        self.templates: dict[tuple[str, date, Clock, int], Template] = {}
        self.horizon = cal.at(today, time(0))
        # Each procedure's time in the catalog, and its pace (share of that time it takes).
        self.clocks = in_force(catalog)
        self.due_soon_days = {c: p.due_soon_working_days for c, p in catalog.procedures.items()}
        self.pace = {p: self.rng.uniform(0.25, 0.6) for p in self.procedures}
        self.index = WorkdayIndex(cal)
        self._budgets: dict[tuple[date, Clock], int] = {}

    def _at(self, day: date, hour: int) -> datetime:
        return self.cal.at(day, time(hour))

    def _steps(self, kind: str, d0: date, due: datetime, soon: datetime, taken: int,
               clock: Clock) -> list[tuple[datetime, cmd.Command]]:
        wd = self.cal.nth_working_day_after
        done = [cmd.CompleteProcessing(summary="Đã giải quyết"), cmd.ReturnResult()]
        steps: list[tuple[datetime, cmd.Command]] = [
            (self._at(d0, 10), cmd.AssignOfficer(officer="officer-1")),
            (self._at(d0, 11), cmd.StartProcessing())]
        alerts = [(soon, cmd.RaiseAlert(kind=AlertKind.DUE_SOON)),
                  (due, cmd.RaiseAlert(kind=AlertKind.OVERDUE)),
                  (due + timedelta(seconds=1),
                   cmd.RaiseAlert(kind=AlertKind.OVERDUE_WITHOUT_APOLOGY))]
        # Alerts only after the receipt (a same-day time is due soon before it is received).
        alerts = [a for a in alerts if a[0] > self._at(d0, 11)]
        if kind in ("done", "rated"):
            finished = self._at(wd(d0, taken), 14)
            steps += [a for a in alerts if a[0] < finished]
            steps += [(finished, done[0]), (finished + timedelta(hours=1), done[1])]
            if kind == "rated":
                steps.append((self._at(wd(d0, taken + 1), 9),
                              cmd.RateService(satisfaction=self.rng.choice(list(Satisfaction)))))
        elif kind in ("refused", "withdrawn", "stopped"):
            reason = {"refused": cmd.RefuseDossier, "withdrawn": cmd.WithdrawDossier,
                      "stopped": cmd.StopProcessing}[kind](reason="Lý do")
            steps.append((self._at(wd(d0, 1), 14), reason))
        elif kind == "supplement":
            asked, back = self._at(wd(d0, 1), 10), self._at(wd(d0, 3), 10)
            # The workflow's new due time: the office time of the pause added back.
            later = add_working_time(self.cal, due, working_time_between(self.cal, asked, back))
            finished = self._at(wd(back.date(), max(taken - 1, 0)), 14)
            steps += [(asked, cmd.RequestSupplement(reason="Thiếu giấy tờ")),
                      (back, cmd.ProvideSupplement()),
                      (back + timedelta(seconds=1),
                       self._deadline(later, "supplement_received", clock)),
                      (finished, done[0]), (finished + timedelta(hours=1), done[1])]
        else:  # open
            steps += alerts
        return steps

    def _deadline(self, due: datetime, reason: str, clock: Clock) -> cmd.SetDeadline:
        return cmd.SetDeadline(due_at=due, due_soon_at=due_soon_at(self.cal, due, 1),
                               reason=reason, rule=clock.rule.value, amount=clock.amount,
                               unit=clock.unit.value, calendar_version=self.cal.version,
                               catalog_version="bench")

    def budget(self, d0: date, clock: Clock) -> int:
        """Working days from the receipt day to the due date under `clock`."""
        key = (d0, clock)
        if key not in self._budgets:
            due = due_at(self.cal, self._at(d0, 9), clock.amount, clock.unit, clock.rule)
            self._budgets[key] = self.index(due.date()) - self.index(d0)
        return self._budgets[key]

    def taken(self, procedure: str, budget: int) -> int:
        """Working days a done dossier took: log-normal around the procedure's pace."""
        if budget <= 0:  # same day: a few slip to the next day
            return 0 if self.rng.random() < 0.97 else 1
        share = self.rng.lognormvariate(math.log(self.pace[procedure]), SPREAD)
        return min(round(budget * share), 3 * budget + 3)

    def template(self, kind: str, d0: date, clock: Clock, taken: int = 0) -> Template:
        key = (kind, d0, clock, taken)
        if key in self.templates:
            return self.templates[key]
        channel = list(Channel)[self.rng.randrange(3)]
        code = format_code(T_UNIT, d0, 9999)
        received = self._at(d0, 9)
        due = due_at(self.cal, received, clock.amount, clock.unit, clock.rule)
        soon = due_soon_at(self.cal, due, 1)
        state, fact, events = Dossier(), None, []
        steps = [(received, cmd.ReceiveDossier(
            code=code, unit_code=T_UNIT, procedure_code=T_PROC, channel=channel,
            applicant_name="Nguyễn Văn An")),
            (received + timedelta(seconds=1), self._deadline(due, "receipt", clock)),
            *self._steps(kind, d0, due, soon, taken, clock)]
        for at, command in sorted(steps, key=lambda s: s[0]):
            if at >= self.horizon:
                break
            for event in decide(state, command, at):
                before, state = state, evolve(state, event)
                fact = reporting.advance(fact, reporting.Applied(event, before, state),
                                         self.cal.tz)
                payload = json.dumps(ev.to_payload(event), ensure_ascii=False)
                events.append((event.event_type, event.schema_version, payload, event.at,
                               code in payload))
        queue = (code, T_UNIT, T_PROC, state.state.value if state.state else "",
                 "on_track", state.assignee, state.due_at) if state.is_open else None
        tpl = Template(code, events, _row(state, events[-1][3]), fact, state.is_open, queue)
        self.templates[key] = tpl
        return tpl

    def dossiers(self, n: int) -> Iterator[tuple[str, str, str, Template]]:
        """(code, unit, procedure, template) for `n` dossiers, oldest receipt day first."""
        kinds, weights = list(KINDS), list(KINDS.values())
        open_from = self.today - timedelta(days=OPEN_DAYS)
        days = sorted(self.rng.choices(self.days, k=n))
        seq: dict[tuple[str, date], int] = {}
        for d0 in days:
            kind = "open" if d0 >= open_from and self.rng.random() < 0.7 else \
                self.rng.choices(kinds, weights)[0]
            unit, proc = self.rng.choice(self.units), self.rng.choice(self.procedures)
            clock = self.clocks[proc]
            budget = self.budget(d0, clock)
            if kind == "supplement" and budget < 3:
                kind = "done"  # no supplement loop within a day or two
            taken = self.taken(proc, budget) if kind in ("done", "rated", "supplement") else 0
            seq[unit, d0] = seq.get((unit, d0), 0) + 1
            yield (format_code(unit, d0, seq[unit, d0]), unit, proc,
                   self.template(kind, d0, clock, taken))


def put(text: str, tpl: Template, code: str, unit: str, proc: str) -> str:
    """The template's text for one dossier."""
    return text.replace(tpl.code, code).replace(T_UNIT, unit).replace(T_PROC, proc)


class Rows:
    """The COPY rows of a batch of dossiers, per table."""

    def __init__(self, first_event_id: int) -> None:
        self.next_id = first_event_id
        self.events: list[tuple[Any, ...]] = []
        self.dossiers: list[tuple[Any, ...]] = []
        self.facts: list[tuple[Any, ...]] = []
        self.queue: list[tuple[Any, ...]] = []

    def add(self, code: str, unit: str, proc: str, tpl: Template) -> None:
        for position, (etype, version, payload, at, has_code) in enumerate(tpl.events, 1):
            text = put(payload, tpl, code, unit, proc) if has_code else payload
            self.events.append((code, position, f"00000000-0000-4000-8000-{self.next_id:012x}",
                                etype, version, text, METADATA, at))
            self.next_id += 1
        row = list(tpl.row)
        row[0], row[1], row[2] = code, unit, proc
        row[-1] = put(row[-1], tpl, code, unit, proc)
        self.dossiers.append(tuple(row))
        if tpl.fact is not None:
            f = dataclasses.replace(tpl.fact, code=code, unit_code=unit, procedure_code=proc)
            self.facts.append(tuple(getattr(f, c) for c in FACT_COLUMNS))
        if tpl.queue_row is not None:
            self.queue.append((code, unit, proc, *tpl.queue_row[3:]))


def today_in_office(cal: Calendar) -> date:
    return datetime.now(UTC).astimezone(cal.tz).date()
