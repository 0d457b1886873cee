"""Synthetic history for the reports benchmark: N dossiers over the two years up to today, as
real events (built with `decide`, the workflow's own rules) and the read models the projector
would derive from them, loaded with COPY.

Each dossier's life is one of a few kinds (early, on time, late with its alerts, rated,
refused, withdrawn, supplement loop, still open), received on a working day by one of the
catalog's units for one of its procedures. A life is built once per (kind, receipt day,
channel) as a template, by `decide` and `evolve`, with its `dossiers` row (the projector's
own `_row`) and its `report_facts` row (the projector's own `reporting.advance`, event by
event); every dossier of that template is the same text with its code, unit and procedure
put in. So the events, the read model and the report facts agree exactly; `report_counts` is
then computed from the facts in SQL (`reporting.recount`, checked by the report tests to equal
the projector's incremental counts), and the projection checkpoint is set past the last event.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from domain import commands as cmd
from domain import events as ev
from domain.calendar import Calendar
from domain.catalog import TimeUnit
from domain.clock import due_at, due_soon_at
from domain.codes import format_code
from domain.decide import decide
from domain.dossier import Dossier, evolve
from domain.states import AlertKind, Channel, Satisfaction
from motcua.catalog_source import load_catalog
from motcua.eventstore import reporting
from motcua.eventstore.projector import _row

T_UNIT, T_PROC = "999.99.99.Z99", "9.999999"
KINDS = {"early": 40, "on_time": 18, "late": 8, "rated": 14, "refused": 3, "withdrawn": 2,
         "supplement": 10, "stopped": 1}
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
        self.templates: dict[tuple[str, date, Channel], Template] = {}
        self.horizon = cal.at(today, time(0))

    def _at(self, day: date, hour: int) -> datetime:
        return self.cal.at(day, time(hour))

    def _steps(self, kind: str, d0: date, due: datetime,
               soon: datetime) -> list[tuple[datetime, cmd.Command]]:
        wd = self.cal.nth_working_day_after
        done = [cmd.CompleteProcessing(summary="Đã giải quyết"), cmd.ReturnResult()]
        steps: list[tuple[datetime, cmd.Command]] = [
            (self._at(d0, 10), cmd.AssignOfficer(officer="officer-1")),
            (self._at(d0, 11), cmd.StartProcessing())]
        alerts = [(soon, cmd.RaiseAlert(kind=AlertKind.DUE_SOON)),
                  (due, cmd.RaiseAlert(kind=AlertKind.OVERDUE)),
                  (due + timedelta(seconds=1),
                   cmd.RaiseAlert(kind=AlertKind.OVERDUE_WITHOUT_APOLOGY))]
        if kind in ("early", "rated"):
            steps += [(self._at(wd(d0, 2), 10), done[0]), (self._at(wd(d0, 2), 15), done[1])]
            if kind == "rated":
                steps.append((self._at(wd(d0, 3), 9),
                              cmd.RateService(satisfaction=self.rng.choice(list(Satisfaction)))))
        elif kind == "on_time":
            steps += [alerts[0], (due - timedelta(hours=1), done[0]),
                      (self._at(wd(due.date(), 1), 9), done[1])]
        elif kind == "late":
            after = wd(due.date(), 2)
            steps += [*alerts, (self._at(after, 10), done[0]), (self._at(after, 15), done[1])]
        elif kind in ("refused", "withdrawn", "stopped"):
            reason = {"refused": cmd.RefuseDossier, "withdrawn": cmd.WithdrawDossier,
                      "stopped": cmd.StopProcessing}[kind](reason="Lý do")
            steps.append((self._at(wd(d0, 1), 14), reason))
        elif kind == "supplement":
            back = wd(d0, 3)
            steps += [(self._at(wd(d0, 1), 10), cmd.RequestSupplement(reason="Thiếu giấy tờ")),
                      (self._at(back, 10), cmd.ProvideSupplement()),
                      (self._at(back, 10) + timedelta(seconds=1), self._deadline(
                          self.cal.at(wd(due.date(), 2), due.time()), "supplement_received")),
                      (self._at(wd(back, 2), 10), done[0]), (self._at(wd(back, 2), 15), done[1])]
        else:  # open
            steps += alerts
        return steps

    def _deadline(self, due: datetime, reason: str) -> cmd.SetDeadline:
        return cmd.SetDeadline(due_at=due, due_soon_at=due_soon_at(self.cal, due, 1),
                               reason=reason, rule="civil_code", amount=4,
                               unit="working_days", calendar_version=self.cal.version,
                               catalog_version="bench")

    def template(self, kind: str, d0: date, channel: Channel) -> Template:
        key = (kind, d0, channel)
        if key in self.templates:
            return self.templates[key]
        code = format_code(T_UNIT, d0, 9999)
        received = self._at(d0, 9)
        due = due_at(self.cal, received, 4, TimeUnit.WORKING_DAYS)
        soon = due_soon_at(self.cal, due, 1)
        state, fact, events = Dossier(), None, []
        steps = [(received, cmd.ReceiveDossier(
            code=code, unit_code=T_UNIT, procedure_code=T_PROC, channel=channel,
            applicant_name="Nguyễn Văn An")),
            (received + timedelta(seconds=1), self._deadline(due, "receipt")),
            *self._steps(kind, d0, due, soon)]
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
        channels = list(Channel)
        for d0 in days:
            kind = "open" if d0 >= open_from and self.rng.random() < 0.7 else \
                self.rng.choices(kinds, weights)[0]
            unit = self.rng.choice(self.units)
            seq[unit, d0] = seq.get((unit, d0), 0) + 1
            channel = channels[self.rng.randrange(3)]
            yield (format_code(unit, d0, seq[unit, d0]), unit, self.rng.choice(self.procedures),
                   self.template(kind, d0, channel))


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
