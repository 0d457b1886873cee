"""Policy what-if: replay the dossiers received in a period under a proposed catalog (or
calendar) and judge each against when it was actually completed.

For every dossier the due time is recomputed twice, with the same counting rules and pauses:
once under the catalog and calendar in force (the *baseline*), once under the
proposed ones (the *simulation*). So `--cut 0` reproduces the baseline exactly, and a dossier
whose recorded verdict differs from the baseline's (decided under an older calendar, catalog
or counting rule) is reported apart instead of being hidden in the comparison.

The due time judged is the legal one the deadline activity gives (`domain.deadlines.compute`,
`legal_due_at`, checked equal by the tests): `domain.clock.due_at` from the receipt under the
counting rule in force and the procedure's time (its longer maximum once verification was
recorded; issue 11 point 4), plus the office time of every finished pause (`pause_extension`
of `working_time_between`: whole working days for a day-based period under rule v3). The
counting rule is the one in force (`domain.clock.RULE_VERSION`): a dossier whose due time was
given under rule v1 (or v2, for its pauses) is recomputed under the rule in force, and
where that changes its verdict it is among the recorded verdicts that differ. An extension
(the written apology with a new appointment, set once) never changes the verdict: a dossier
past its legal due time stays late (Lai Châu Decision 88/2025/QĐ-UBND, "quá hạn"; issue 11
point 5), so it does not enter the recomputation. A proposed cut changes the procedure's time
only; the maximum for verification is the law's and stays (our reading).

Verdicts follow Biểu 06 and Decision 766/QĐ-TTg index 2.1 as `motcua.reports.sla` defines them
(DEFINITION): a resolved dossier (result ready, refused, withdrawn, stopped) is early / on time
/ late by comparing office DATES (`domain.clock.timeliness`, as `Dossier.verdict_at`), a
second supplement request during processing makes it late; a dossier still in progress at the
report date is overdue when its due date is before that date (unless it waits for a supplement
and the clock stopped within time), else within time. The on-time rate is (early + on time +
in progress within time) / received, over the dossiers received in the period (no
carried-over dossiers: each is judged once, under both policies).

Read-only: one REPEATABLE READ, READ ONLY transaction streaming `dossiers` through a
server-side cursor; nothing is written anywhere. Identical clock inputs share one computation
(`Simulator` memoises due times by receipt instant, or receipt date where only the date
counts, and policy).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg

from domain.calendar import Calendar, DateOutsideCalendar
from domain.catalog import Catalog, CountingRule, InternalProcedure, TimeUnit, check_amount
from domain.clock import (
    RULE_VERSION,
    due_at,
    pause_extension,
    receipt_day,
    timeliness,
    working_time_between,
)
from domain.due import overdue_on
from domain.steps import scaled_hours
from motcua.eventstore.store import Conn

BATCH = 20_000
SAMPLE = 50  # codes listed per kind of finding (the counts are always complete)
# Verdict classes: resolved (Biểu 06) and in progress at the report date.
EARLY, ON_TIME, LATE, WITHIN, OVERDUE = range(5)
CLASSES = ("early", "on_time", "late", "within_time", "overdue")
_OK = (True, True, False, True, False)  # counted as on time by Decision 766 index 2.1
_BY_NAME = {"early": EARLY, "on_time": ON_TIME, "late": LATE}

DEFINITION = {
    "version": "whatif-1",
    "on_time_rate": "Decision 766/QĐ-TTg index 2.1: (resolved early or on time + in progress "
                    "within time) / received, over the dossiers received in the period.",
    "verdict": "Biểu số 06/VPCP/KSTT: end DATE (result, refusal, withdrawal, stop) against "
               "the legal due DATE in the office time zone; a second supplement request during "
               "processing = late; an apology's new appointment does not make it on time; in "
               "progress at the report date: overdue when due before it (a pause that began "
               "within time stops the clock).",
    "due_time": "legal due time: domain.clock.due_at from the receipt under the policy (the "
                "verification maximum once verification was recorded), plus the office time "
                "of each finished pause.",
    "slack": "working days from the finish date to the due date (positive: to spare), for "
             "resolved dossiers; slack_change = simulated - baseline.",
}


class WhatIfError(ValueError):
    """Bad input to a what-if (unknown procedure, bad period, bad policy): a clear message."""


@dataclasses.dataclass(frozen=True, slots=True)
class Clock:
    """A procedure's processing time and counting rule: what `due_at` needs from the catalog."""

    amount: int
    unit: TimeUnit
    rule: CountingRule = CountingRule.CIVIL_CODE

    def __post_init__(self) -> None:
        check_amount(self.amount, self.unit)

    def label(self) -> str:
        return f"{self.amount} {self.unit.value}"


def in_force(catalog: Catalog) -> dict[str, Clock]:
    """The clock of every procedure in `catalog`: the reduced time the deadlines apply."""
    return {code: Clock(p.reduced_amount, p.reduced_unit, p.counting_rule)
            for code, p in catalog.procedures.items()}


def verification_maxima(catalog: Catalog) -> dict[str, Clock]:
    """The longer clock of the procedures that have one once verification is needed."""
    return {code: Clock(p.verification_amount, p.verification_unit, p.counting_rule)
            for code, p in catalog.procedures.items()
            if p.verification_amount is not None and p.verification_unit is not None}


def cut_amount(amount: int, unit: TimeUnit, percent: float) -> int:
    """`amount` cut by `percent`, in whole units rounded down (so the cut is never smaller
    than announced, as `domain.catalog.estimated_reduction` rounds), never below 1; a same-day
    time cannot be cut."""
    if not 0 <= percent < 100:
        raise WhatIfError(f"--cut must be at least 0 and below 100, got {percent}")
    if unit == TimeUnit.SAME_DAY:
        return amount
    return max(1, math.floor(amount * (1 - percent / 100) + 1e-9))


def cut_policy(baseline: Mapping[str, Clock], percent: float,
               procedures: Sequence[str] = ()) -> dict[str, Clock]:
    """The baseline with `procedures` (default: all) cut by `percent`."""
    unknown = sorted(set(procedures) - set(baseline))
    if unknown:
        raise WhatIfError(f"unknown procedure code(s): {', '.join(unknown)}")
    chosen = set(procedures or baseline)
    return {code: dataclasses.replace(c, amount=cut_amount(c.amount, c.unit, percent))
            if code in chosen else c for code, c in baseline.items()}


class WorkdayIndex:
    """The number of working days up to and including each date of the calendar's years, so
    that a distance in working days is one subtraction (slack; the forecast's time used)."""

    def __init__(self, cal: Calendar) -> None:
        first, last = date(cal.first_year, 1, 1), date(cal.last_year, 12, 31)
        self.first = first
        counts, n, day = [], 0, first
        while day <= last:
            n += cal.is_working_day(day)
            counts.append(n)
            day += timedelta(days=1)
        self._counts = counts

    def __call__(self, day: date) -> int:
        i = (day - self.first).days
        if not 0 <= i < len(self._counts):
            raise DateOutsideCalendar(f"{day} is outside the calendar's years")
        return self._counts[i]


@dataclasses.dataclass(frozen=True, slots=True)
class Inputs:
    """What a recomputation needs of one dossier (read-model columns, migration 0008)."""

    code: str
    unit_code: str
    procedure_code: str
    state: str
    received_at: datetime
    finished_at: datetime | None = None
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    paused_at: datetime | None = None
    extended_at: datetime | None = None
    extended_due_at: datetime | None = None
    late_by_supplement: bool = False
    verification: bool = False
    recorded_timeliness: str | None = None
    recorded_due_at: datetime | None = None
    calendar_version: str | None = None
    # Office dates of receipt and finish (the database computes them while streaming; None:
    # computed here from the instants).
    received_day: date | None = None
    finished_day: date | None = None


# Counting rule v2 (domain.clock): a Civil Code count in days starts from the DATE of receipt,
# whatever the hour ("day one is the first working day after the calendar date of receipt"),
# so for these clocks the date is the whole input and one computation serves the whole day.
_BY_DATE = frozenset({TimeUnit.WORKING_DAYS, TimeUnit.CALENDAR_DAYS, TimeUnit.MONTHS})


class Simulator:
    """Due times and verdicts of dossiers under one policy (a clock per procedure and a
    calendar), with a memo: dossiers with the same clock inputs (receipt instant, or receipt
    date where only the date counts, and clock) share one `due_at` computation, and the same
    pause the same `working_time_between`."""

    def __init__(self, cal: Calendar, clocks: Mapping[str, Clock], as_of: date) -> None:
        self.cal, self.clocks, self.as_of = cal, clocks, as_of
        self.tz = cal.tz
        self.index = WorkdayIndex(cal)
        self._due: dict[tuple[datetime | date, Clock], datetime] = {}
        self._paused: dict[tuple[datetime, datetime], timedelta] = {}
        self._due_day: dict[datetime, tuple[date, int]] = {}
        self._judged: dict[tuple[date, datetime], int] = {}
        self.computed = 0
        self.reused = 0

    def receipt_due(self, received_at: datetime, clock: Clock,
                    day: date | None = None) -> datetime:
        """`due_at` under `clock` (`day`: the office date of receipt, when known)."""
        by_date = (RULE_VERSION >= 2 and clock.rule is CountingRule.CIVIL_CODE
                   and clock.unit in _BY_DATE)
        key = ((day or receipt_day(self.cal, received_at)) if by_date else received_at, clock)
        found = self._due.get(key)
        if found is not None:
            self.reused += 1
            return found
        self.computed += 1
        due = due_at(self.cal, received_at, clock.amount, clock.unit, clock.rule)
        self._due[key] = due
        return due

    def _pause(self, start: datetime, end: datetime) -> timedelta:
        key = (start, end)
        found = self._paused.get(key)
        if found is None:
            found = self._paused[key] = working_time_between(self.cal, start, end)
        return found

    def _plus_pauses(self, due: datetime, pauses: Iterable[tuple[datetime, datetime]],
                     unit: TimeUnit) -> datetime:
        # The rule in force (v3: the pauses' total, in whole working days for a day-based
        # period; `domain.clock.pause_extension`), as the worker counts new receipts.
        total = sum((self._pause(start, end) for start, end in pauses), timedelta(0))
        return pause_extension(self.cal, due, total, unit, RULE_VERSION)

    def due(self, d: Inputs, clock: Clock) -> datetime:
        """`d`'s legal due time under `clock`: from the receipt, plus every finished pause."""
        return self._plus_pauses(self.receipt_due(d.received_at, clock, d.received_day),
                                 d.pauses, clock.unit)

    def due_day(self, due: datetime) -> tuple[date, int]:
        """The office date of `due` and its working-day ordinal (memoised: dues repeat)."""
        found = self._due_day.get(due)
        if found is None:
            day = due.astimezone(self.tz).date()
            found = self._due_day[due] = (day, self.index(day))
        return found

    def verdict(self, d: Inputs, due: datetime) -> int:
        """Biểu 06 / Decision 766 class of `d` under `due` (see the module docstring)."""
        if d.finished_at is not None:
            if d.late_by_supplement:
                return LATE
            # `timeliness` compares office DATES only, so one call per (finish date, due).
            key = (d.finished_day or d.finished_at.astimezone(self.tz).date(), due)
            found = self._judged.get(key)
            if found is None:
                found = self._judged[key] = _BY_NAME[
                    timeliness(self.cal, d.finished_at, due).value]
            return found
        if d.late_by_supplement:
            return OVERDUE
        # In progress at the end of the day before the report date (`domain.due`: none while
        # waiting for the citizen since before the due time, the clock stopped).
        return OVERDUE if overdue_on(due, d.paused_at, self.as_of - timedelta(days=1),
                                     self.tz) else WITHIN


@dataclasses.dataclass
class Tally:
    """Counts of one (procedure, unit) group."""

    received: int = 0
    baseline: list[int] = dataclasses.field(default_factory=lambda: [0] * 5)
    simulated: list[int] = dataclasses.field(default_factory=lambda: [0] * 5)
    to_late: int = 0
    to_on_time: int = 0
    resolved: int = 0  # with a slack (resolved, not withdrawn)
    baseline_slack: int = 0
    simulated_slack: int = 0
    recorded_differs: int = 0

    def add(self, other: Tally) -> None:
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if isinstance(mine, list):
                setattr(self, f.name, [a + b for a, b in zip(mine, theirs, strict=True)])
            else:
                setattr(self, f.name, mine + theirs)

    def as_dict(self) -> dict[str, Any]:
        def rate(counts: list[int]) -> float | None:
            ok = sum(n for n, good in zip(counts, _OK, strict=True) if good)
            return round(ok / self.received, 6) if self.received else None

        def mean(total: int) -> float | None:
            return round(total / self.resolved, 3) if self.resolved else None

        base, sim = rate(self.baseline), rate(self.simulated)
        return {
            "received": self.received,
            "baseline_on_time_rate": base, "simulated_on_time_rate": sim,
            "rate_change": None if base is None or sim is None else round(sim - base, 6),
            "baseline": dict(zip(CLASSES, self.baseline, strict=True)),
            "simulated": dict(zip(CLASSES, self.simulated, strict=True)),
            "flips_to_late": self.to_late, "flips_to_on_time": self.to_on_time,
            "resolved_with_slack": self.resolved,
            "baseline_mean_slack_days": mean(self.baseline_slack),
            "simulated_mean_slack_days": mean(self.simulated_slack),
            "mean_slack_change_days": mean(self.simulated_slack - self.baseline_slack),
            "recorded_verdict_differs": self.recorded_differs,
        }


@dataclasses.dataclass
class Result:
    """The what-if's outcome: groups, totals, and the dossiers behind the notable numbers."""

    period_start: date
    period_end: date
    as_of: date
    unit: str | None
    policy: list[dict[str, Any]]
    groups: dict[tuple[str, str], Tally]
    flips: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    flip_count: int = 0
    differs: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    differs_count: int = 0
    skipped: list[dict[str, str]] = dataclasses.field(default_factory=list)
    skipped_count: int = 0
    computations: int = 0
    reused: int = 0
    calendar_version: str = ""
    proposed_calendar_version: str = ""

    def totals(self) -> Tally:
        total = Tally()
        for t in self.groups.values():
            total.add(t)
        return total

    def rows(self) -> list[dict[str, Any]]:
        return [{"procedure_code": p, "unit_code": u, **t.as_dict()}
                for (p, u), t in sorted(self.groups.items())]

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": "whatif",
            "period": {"from": self.period_start.isoformat(), "to": self.period_end.isoformat()},
            "as_of": self.as_of.isoformat(), "filters": {"unit": self.unit},
            "calendar_version": self.calendar_version,
            "proposed_calendar_version": self.proposed_calendar_version,
            "policy": self.policy, "definition": DEFINITION,
            "rows": self.rows(), "totals": self.totals().as_dict(),
            "flips": {"count": self.flip_count, "sample": self.flips},
            "recorded_verdict_differs": {"count": self.differs_count, "sample": self.differs},
            "skipped": {"count": self.skipped_count, "sample": self.skipped},
            "memo": {"due_time_computations": self.computations, "reused": self.reused},
        }


class Comparison:
    """Folds dossiers into per-(procedure, unit) tallies of baseline against simulation."""

    def __init__(self, base: Simulator, sim: Simulator, index: WorkdayIndex,
                 procedures: Sequence[str] = (),
                 verification: Mapping[str, Clock] | None = None) -> None:
        self.base, self.sim, self.index = base, sim, index
        self.verification = verification or {}
        self.only = frozenset(procedures)
        self.same_calendar = base.cal is sim.cal
        self.groups: dict[tuple[str, str], Tally] = {}
        self.flips: list[dict[str, Any]] = []
        self.flip_count = 0
        self.differs: list[dict[str, Any]] = []
        self.differs_count = 0
        self.skipped: list[dict[str, str]] = []
        self.skipped_count = 0

    def _skip(self, d: Inputs, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < SAMPLE:
            self.skipped.append({"code": d.code, "reason": reason})

    def add(self, d: Inputs) -> None:
        if self.only and d.procedure_code not in self.only:
            return
        base_clock = self.base.clocks.get(d.procedure_code)
        sim_clock = self.sim.clocks.get(d.procedure_code)
        if d.verification:  # the law's longer maximum, under both policies
            base_clock = sim_clock = self.verification.get(d.procedure_code)
        if base_clock is None or sim_clock is None:
            self._skip(d, f"procedure {d.procedure_code} is not in the catalog in force"
                       + (" with a maximum for verification" if d.verification else ""))
            return
        try:
            base_due = self.base.due(d, base_clock)
            if sim_clock == base_clock and self.same_calendar:
                sim_due = base_due  # the same inputs: one computation (and --cut 0 exact)
            else:
                sim_due = self.sim.due(d, sim_clock)
            b, s = self.base.verdict(d, base_due), self.sim.verdict(d, sim_due)
            slack = None
            if d.finished_at is not None:
                done = self.index(d.finished_day or d.finished_at.astimezone(self.base.tz).date())
                slack = (self.base.due_day(base_due)[1] - done,
                         self.base.due_day(sim_due)[1] - done)
        except DateOutsideCalendar as err:
            self._skip(d, str(err))
            return
        key = (d.procedure_code, d.unit_code)
        t = self.groups.get(key)
        if t is None:
            t = self.groups[key] = Tally()
        t.received += 1
        t.baseline[b] += 1
        t.simulated[s] += 1
        if slack is not None:
            t.resolved += 1
            t.baseline_slack += slack[0]
            t.simulated_slack += slack[1]
        if _OK[b] != _OK[s]:
            if _OK[b]:
                t.to_late += 1
            else:
                t.to_on_time += 1
            self.flip_count += 1
            if len(self.flips) < SAMPLE:
                self.flips.append({"code": d.code, "procedure_code": d.procedure_code,
                                   "unit_code": d.unit_code, "baseline": CLASSES[b],
                                   "simulated": CLASSES[s], "baseline_due_at": base_due,
                                   "simulated_due_at": sim_due, "finished_at": d.finished_at})
        recorded = d.recorded_timeliness
        if (d.finished_at is not None and recorded is not None and b in (EARLY, ON_TIME, LATE)
                and recorded != CLASSES[b]):
            t.recorded_differs += 1
            self.differs_count += 1
            if len(self.differs) < SAMPLE:
                self.differs.append({"code": d.code, "recorded": recorded,
                                     "recomputed": CLASSES[b],
                                     "recorded_due_at": d.recorded_due_at,
                                     "recomputed_due_at": base_due,
                                     "calendar_version": d.calendar_version})


# -- reading the read model ----------------------------------------------------------------

_SELECT = """
SELECT code, unit_code, procedure_code, state, received_at, finished_at, timeliness,
       judged_due_at AS due_at, calendar_version, pause_starts, pause_ends,
       paused_at, extended_at, extended_due_at, late_by_supplement, verification_required,
       (received_at AT TIME ZONE $3)::date AS received_day,
       (finished_at AT TIME ZONE $3)::date AS finished_day
FROM dossiers
WHERE received_at >= $1 AND received_at < $2
  AND dossiers.due_at IS NOT NULL -- never accepted (online intake): no receipt, no due time
"""


def inputs(r: asyncpg.Record) -> Inputs:
    """A read-model row as recomputation inputs."""
    starts, ends = r["pause_starts"], r["pause_ends"]
    return Inputs(
        code=r["code"], unit_code=r["unit_code"], procedure_code=r["procedure_code"],
        state=r["state"], received_at=r["received_at"], finished_at=r["finished_at"],
        pauses=tuple(zip(starts, ends, strict=True)) if starts else (),
        paused_at=r["paused_at"], extended_at=r["extended_at"],
        extended_due_at=r["extended_due_at"], late_by_supplement=r["late_by_supplement"],
        verification=r["verification_required"],
        recorded_timeliness=r["timeliness"], recorded_due_at=r["due_at"],
        calendar_version=r["calendar_version"], received_day=r["received_day"],
        finished_day=r["finished_day"])


def period_bounds(start: date, end: date, cal: Calendar) -> tuple[datetime, datetime]:
    """The instants of `[start 00:00, end + 1 day 00:00)` in the office time zone."""
    if end < start:
        raise WhatIfError("the period ends before it starts (--to is before --from)")
    if end >= date.max - timedelta(days=1):
        raise WhatIfError("the period ends too late")
    for day in (start, end):
        if not cal.covers(day):
            raise WhatIfError(f"{day} is outside the calendar's years {cal.first_year}-"
                              f"{cal.last_year}")
    return (datetime.combine(start, time(0), cal.tz),
            datetime.combine(end + timedelta(days=1), time(0), cal.tz))


async def stream(conn: Conn, start: date, end: date, cal: Calendar, *, unit: str | None = None,
                 procedures: Sequence[str] = (), batch: int = BATCH
                 ) -> AsyncIterator[list[Inputs]]:
    """The dossiers received in `[start, end]` (office dates), a batch at a time, through a
    server-side cursor in one read-only snapshot."""
    async for rows in records(conn, start, end, cal, unit=unit, procedures=procedures,
                              batch=batch):
        yield [inputs(r) for r in rows]


async def records(conn: Conn, start: date, end: date, cal: Calendar, *,
                  unit: str | None = None, procedures: Sequence[str] = (), batch: int = BATCH
                  ) -> AsyncGenerator[list[asyncpg.Record], None]:
    """`stream`'s rows as the database sends them."""
    lo, hi = period_bounds(start, end, cal)
    sql = _SELECT
    args: list[object] = [lo, hi, cal.hours.tz_name]
    if unit is not None:
        args.append(unit)
        sql += f" AND unit_code = ${len(args)}"
    if procedures:
        args.append(list(procedures))
        sql += f" AND procedure_code = ANY(${len(args)}::text[])"
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        cursor = await conn.cursor(sql, *args)
        while rows := await cursor.fetch(batch):
            yield rows


async def fold(batches: AsyncGenerator[list[asyncpg.Record], None],
               add: Callable[[Inputs], None]) -> None:
    """Apply `add` to every row, one batch at a time in a worker thread while the next batch
    is fetched: the database's work overlaps ours, and an event loop serving the API keeps
    answering meanwhile."""
    def one(rows: list[asyncpg.Record]) -> None:
        for r in rows:
            add(inputs(r))

    pending: asyncio.Future[None] | None = None
    try:
        async with contextlib.aclosing(batches):  # ends the read-only transaction on error
            async for rows in batches:
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(asyncio.to_thread(one, rows))
        if pending is not None:
            await pending
            pending = None
    finally:
        if pending is not None:  # an error while fetching: let the batch in hand finish
            await asyncio.wait([pending])


def describe_policy(baseline: Mapping[str, Clock], proposed: Mapping[str, Clock],
                    only: Iterable[str] = (), catalog: Catalog | None = None
                    ) -> list[dict[str, Any]]:
    """The procedures whose time the proposal changes (or those asked for), both clocks; for
    a procedure with internal steps in `catalog`, each step's allowance in office hours before
    and under the proposal (`steps_under`)."""
    chosen = set(only)
    out = []
    for code in sorted(baseline):
        if code not in proposed or (proposed[code] == baseline[code] and code not in chosen):
            continue
        row: dict[str, Any] = {"procedure_code": code, "baseline": baseline[code].label(),
                               "proposed": proposed[code].label()}
        proc = catalog.procedures.get(code) if catalog is not None else None
        if proc is not None and proc.steps is not None:
            row["steps"] = steps_under(proc.steps, proposed[code])
        out.append(row)
    return out


def steps_under(steps: InternalProcedure, clock: Clock) -> list[dict[str, Any]]:
    """Each step's allowance (office hours) now and under `clock`: the proposed time shared
    between the timed steps in proportion, whole hours by the largest remainder
    (`domain.steps.scaled_hours`, our reading); empty under a time in calendar days or
    months, which steps cannot divide (`InternalProcedure.applied_hours`)."""
    try:
        total = steps.applied_hours(clock.amount, clock.unit)
    except ValueError:
        return []
    after = scaled_hours(steps, total)
    return [{"name": s.name, "baseline_hours": s.allowance.hours(steps.day_hours)
             if s.allowance else None, "proposed_hours": h}
            for s, h in zip(steps.steps, after, strict=True)]


async def run(conn: Conn, *, start: date, end: date, calendar: Calendar,
              baseline: Mapping[str, Clock], proposed: Mapping[str, Clock],
              proposed_calendar: Calendar | None = None, as_of: date,
              unit: str | None = None, procedures: Sequence[str] = (),
              verification: Mapping[str, Clock] | None = None,
              catalog: Catalog | None = None) -> Result:
    """The what-if over the dossiers received in `[start, end]` (see the module docstring);
    `catalog` (the one in force) adds the steps' shares under the proposal to the policy."""
    unknown = sorted(set(procedures) - set(baseline))
    if unknown:
        raise WhatIfError(f"unknown procedure code(s): {', '.join(unknown)}")
    base = Simulator(calendar, baseline, as_of)
    sim = Simulator(proposed_calendar or calendar, proposed, as_of)
    compare = Comparison(base, sim, WorkdayIndex(calendar), procedures, verification)
    await fold(records(conn, start, end, calendar, unit=unit, procedures=procedures),
               compare.add)
    return Result(
        period_start=start, period_end=end, as_of=as_of, unit=unit,
        policy=describe_policy(baseline, proposed, procedures, catalog),
        groups=compare.groups,
        flips=compare.flips, flip_count=compare.flip_count, differs=compare.differs,
        differs_count=compare.differs_count, skipped=compare.skipped,
        skipped_count=compare.skipped_count, computations=base.computed + sim.computed,
        reused=base.reused + sim.reused, calendar_version=calendar.version,
        proposed_calendar_version=(proposed_calendar or calendar).version)


__all__ = ["Clock", "Comparison", "Inputs", "Result", "Simulator", "Tally", "WhatIfError",
           "WorkdayIndex", "cut_policy", "in_force", "run", "stream"]
