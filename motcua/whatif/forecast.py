"""Lateness forecast: for each open dossier, the probability that it finishes late.

The model is the empirical distribution of the working time finished dossiers used, no
machine learning. Time is counted in working days on office dates, as Biểu 06 judges: for a
finished dossier, `used` = working days from the date of receipt to the date it finished, and
`budget` = working days from the date of receipt to its legal due date (an apology's new
appointment does not count: issue 11 point 5), both less the working days spent waiting for
supplements (the due time already adds those back). It was late when
`used > budget` (or when a second supplement request made it late, Decision 766). Procedures
have different times, so each sample is kept as the ratio r = (used + 1) / (budget + 1):
late exactly when r > 1.

For an open dossier that has spent `spent` working days of its `budget` (up to today, or up to
the start of the pause it is in), the forecast conditions on what is known, that it is not
finished yet: P(late) = #{r > 1, r >= c} / #{r >= c} with c = (spent + 1) / (budget + 1), over
the samples of its procedure and unit, or if fewer than `MIN_SAMPLE` remain, its procedure,
or all procedures. The state conditions it too: a dossier already overdue, or flagged late by
a second supplement request, or paused after its due time, has P = 1; one waiting for the
citizen's papers is judged on the time it had used when the clock stopped.

A dossier walking its procedure's internal steps (issue 22 item 5) is also judged on its
steps: the open step ends at its own due instant at the earliest if it has not ended yet (or
now, if that instant has passed), and each later timed step takes its published allowance of
office time; when that plan ends on a later office date than the legal due time, the
published steps can no longer be kept and the forecast is P = 1 (basis `steps`). OUR READING:
no text says how a forecast should use the steps; this is the plan the province published,
taken at its word (staff may still finish steps early). The later steps' allowances come from
the dossier's own plan where the dossier is at hand (`dossier_risk`), else from the catalog
in force (`assess`: the read model keeps no plan; a dossier received under an older list of
steps is judged on the current one).

`run_refresher` rebuilds the model and scores the open dossiers every few minutes for the
gauge `motcua_dossiers_at_risk{unit}` (P >= `AT_RISK`) and the "likely late" list; `backtest`
measures the calibration on history (of the dossiers given 80% or more, how many were late).
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import time as clock
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
import structlog

from domain import walk
from domain.calendar import Calendar, DateOutsideCalendar
from domain.catalog import Catalog
from domain.clock import add_working_time
from domain.dossier import Dossier
from domain.due import is_overdue, paused_within_time
from motcua.metrics import DOSSIERS_AT_RISK
from motcua.whatif.simulate import WorkdayIndex

log = structlog.get_logger(__name__)

MIN_SAMPLE = 20  # samples still open at the dossier's point needed to trust a level
AT_RISK = 0.8  # "likely late"
HISTORY_DAYS = 365  # finished dossiers the model learns from
REFRESH_SECONDS = 300.0
OPEN_STATES = ("received", "assigned", "processing", "awaiting_supplement", "awaiting_payment")


@dataclasses.dataclass(frozen=True, slots=True)
class Risk:
    """A dossier's forecast: the probability, and what it rests on."""

    probability: float
    basis: str  # procedure_unit | procedure | all | overdue | late_by_supplement
    sample: int  # finished dossiers it rests on (0 when the state decides)

    def as_dict(self) -> dict[str, Any]:
        return {"probability": round(self.probability, 4), "basis": self.basis,
                "sample": self.sample}


class Model:
    """Sorted ratios r per (procedure, unit), per procedure and over all."""

    def __init__(self, samples: Iterable[tuple[str, str, float, int]]) -> None:
        pairs: dict[tuple[str, str], list[float]] = {}
        procs: dict[str, list[float]] = {}
        everything: list[float] = []
        for proc, unit, r, n in samples:
            more = [r] * n
            pairs.setdefault((proc, unit), []).extend(more)
            procs.setdefault(proc, []).extend(more)
            everything.extend(more)
        self.pairs = {k: sorted(v) for k, v in pairs.items()}
        self.procedures = {k: sorted(v) for k, v in procs.items()}
        self.all = sorted(everything)

    @property
    def size(self) -> int:
        return len(self.all)

    def risk(self, procedure: str, unit: str, spent: int, budget: int) -> Risk | None:
        """P(late) for a dossier not finished after `spent` of its `budget` working days."""
        c = (max(spent, 0) + 1) / (max(budget, 0) + 1)
        if c > 1:
            return Risk(1.0, "overdue", 0)
        levels = (("procedure_unit", self.pairs.get((procedure, unit), [])),
                  ("procedure", self.procedures.get(procedure, [])), ("all", self.all))
        for basis, rs in levels:
            alive = len(rs) - bisect.bisect_left(rs, c)
            if alive >= MIN_SAMPLE or (basis == "all" and alive > 0):
                late = len(rs) - bisect.bisect_right(rs, 1.0)
                return Risk(late / alive, basis, alive)
        return None


def ratio(used: int, budget: int, late_flag: bool = False) -> float:
    """A finished dossier's sample: (used + 1) / (budget + 1), above 1 exactly when late."""
    used, budget = max(used, 0), max(budget, 0)
    r = (used + 1) / (budget + 1)
    return max(r, (budget + 2) / (budget + 1)) if late_flag else r


def _paused_days(index: WorkdayIndex, starts: Sequence[date], ends: Sequence[date]) -> int:
    return sum(index(e) - index(s) for s, e in zip(starts, ends, strict=True))


# Finished dossiers by office dates, grouped so that dossiers alike are one row.
_HISTORY = """
SELECT procedure_code, unit_code,
       (received_at AT TIME ZONE $1)::date AS received, (finished_at AT TIME ZONE $1)::date
       AS finished, (judged_due_at AT TIME ZONE $1)::date AS due,
       late_by_supplement,
       ARRAY(SELECT (x AT TIME ZONE $1)::date FROM unnest(pause_starts) x) AS pause_starts,
       ARRAY(SELECT (x AT TIME ZONE $1)::date FROM unnest(pause_ends) x) AS pause_ends,
       count(*) AS n
FROM dossiers
WHERE finished_at >= $2 AND finished_at < $3 AND received_at < $3 AND due_at IS NOT NULL
  AND state <> 'withdrawn'
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""


async def learn(db: asyncpg.Pool | asyncpg.Connection, cal: Calendar, until: datetime,
                days: int = HISTORY_DAYS) -> Model:
    """The model from the dossiers finished in the `days` before `until`. The Python work runs
    in a thread: the API's event loop keeps answering meanwhile."""
    rows = await db.fetch(_HISTORY, cal.hours.tz_name, until - timedelta(days=days), until)
    return await asyncio.to_thread(_model, rows, cal)


def _model(rows: Sequence[asyncpg.Record], cal: Calendar) -> Model:
    index = WorkdayIndex(cal)
    samples = []
    for r in rows:
        try:
            paused = _paused_days(index, r["pause_starts"], r["pause_ends"])
            start = index(r["received"])
            used = index(r["finished"]) - start - paused
            budget = index(r["due"]) - start - paused
        except DateOutsideCalendar:
            continue
        samples.append((r["procedure_code"], r["unit_code"],
                        ratio(used, budget, r["late_by_supplement"]), int(r["n"])))
    return Model(samples)


@dataclasses.dataclass(frozen=True, slots=True)
class Open:
    """What the forecast needs of an open dossier."""

    code: str
    unit_code: str
    procedure_code: str
    state: str
    received_at: datetime
    due_at: datetime | None
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    paused_at: datetime | None = None
    late_by_supplement: bool = False
    # Internal steps (module docstring): the open step's due instant, and the office hours
    # the later timed steps are allowed; None for a dossier without steps.
    step_due_at: datetime | None = None
    steps_left_hours: int | None = None


def steps_finish(cal: Calendar, d: Open, now: datetime) -> datetime | None:
    """When the dossier's published steps end if the open step ends at its due instant (or
    now, once that has passed) and every later timed step takes its allowance; None without
    steps or while the clock is stopped."""
    if d.step_due_at is None or d.steps_left_hours is None or d.paused_at is not None:
        return None
    return add_working_time(cal, max(now, d.step_due_at), timedelta(hours=d.steps_left_hours))


def score(model: Model, index: WorkdayIndex, cal: Calendar, d: Open, now: datetime) -> Risk | None:
    """The forecast for `d` at `now` (None: no due time, or nothing to learn from)."""
    if d.late_by_supplement:
        return Risk(1.0, "late_by_supplement", 0)
    if d.due_at is None:
        return None
    if d.paused_at is not None:
        if not paused_within_time(d.paused_at, d.due_at):
            return Risk(1.0, "overdue", 0)
        upto = d.paused_at  # the clock stopped: judge the time used until then
    elif is_overdue(d.due_at, now):
        return Risk(1.0, "overdue", 0)
    else:
        upto = now
    finish = steps_finish(cal, d, now)
    if finish is not None and cal.local(finish).date() > cal.local(d.due_at).date():
        return Risk(1.0, "steps", 0)  # judged by office date, as the dossier's verdict is
    tz = cal.tz
    try:
        start = index(d.received_at.astimezone(tz).date())
        paused = _paused_days(index, [s.astimezone(tz).date() for s, _ in d.pauses],
                              [e.astimezone(tz).date() for _, e in d.pauses])
        spent = index(upto.astimezone(tz).date()) - start - paused
        budget = index(d.due_at.astimezone(tz).date()) - start - paused
    except DateOutsideCalendar:
        return None
    return model.risk(d.procedure_code, d.unit_code, spent, budget)


def steps_left(catalog: Catalog | None, procedure_code: str, step: int | None) -> int | None:
    """The office hours the catalog's steps after `step` are allowed (None: no steps)."""
    proc = catalog.procedures.get(procedure_code) if catalog is not None else None
    if proc is None or proc.steps is None or step is None:
        return None
    day = proc.steps.day_hours
    return sum(s.allowance.hours(day) for s in proc.steps.steps[step + 1:] if s.allowance)


def open_from_record(r: asyncpg.Record, catalog: Catalog | None = None) -> Open:
    starts, ends = r["pause_starts"] or [], r["pause_ends"] or []
    return Open(code=r["code"], unit_code=r["unit_code"], procedure_code=r["procedure_code"],
                state=r["state"], received_at=r["received_at"], due_at=r["due_at"],
                pauses=tuple(zip(starts, ends, strict=True)), paused_at=r["paused_at"],
                late_by_supplement=r["late_by_supplement"], step_due_at=r.get("step_due_at"),
                steps_left_hours=steps_left(catalog, r["procedure_code"], r.get("open_step")))


# With the open run of its internal steps, if any (`step_runs`, migration 0017).
_OPEN = """
SELECT d.code, d.unit_code, d.procedure_code, d.state, d.received_at,
       d.judged_due_at AS due_at, d.pause_starts, d.pause_ends, d.paused_at,
       d.late_by_supplement, s.step AS open_step, s.due_at AS step_due_at
FROM dossiers d
LEFT JOIN LATERAL (SELECT r.step, r.due_at FROM step_runs r
                   WHERE r.code = d.code AND r.ended_at IS NULL
                   ORDER BY r.run DESC LIMIT 1) s ON true
WHERE d.state = ANY($1::text[])
"""


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """One scoring of the open dossiers."""

    at_risk: Mapping[str, int] = dataclasses.field(default_factory=dict)  # unit -> count
    likely_late: Sequence[dict[str, Any]] = ()  # P >= AT_RISK, riskiest first
    model_size: int = 0
    taken_at: float = 0.0


async def assess(db: asyncpg.Pool | asyncpg.Connection, cal: Calendar,
                 now: datetime | None = None, model: Model | None = None,
                 catalog: Catalog | None = None) -> Snapshot:
    """Score every open dossier (learning from the last year unless `model` is given); with
    `catalog`, dossiers walking steps are judged on them too (module docstring)."""
    now = now or datetime.now(cal.tz)
    model = model or await learn(db, cal, now)
    rows = await db.fetch(_OPEN, list(OPEN_STATES))
    return await asyncio.to_thread(_assess, rows, cal, now, model, catalog)


def _assess(rows: Sequence[asyncpg.Record], cal: Calendar, now: datetime,
            model: Model, catalog: Catalog | None = None) -> Snapshot:
    index = WorkdayIndex(cal)
    at_risk: dict[str, int] = {}
    likely: list[dict[str, Any]] = []
    for r in rows:
        d = open_from_record(r, catalog)
        risk = score(model, index, cal, d, now)
        if risk is not None and risk.probability >= AT_RISK:
            at_risk[d.unit_code] = at_risk.get(d.unit_code, 0) + 1
            likely.append({"code": d.code, "unit_code": d.unit_code,
                           "procedure_code": d.procedure_code, "state": d.state,
                           "due_at": d.due_at, "risk": risk.as_dict()})
    likely.sort(key=lambda x: (-x["risk"]["probability"], x["due_at"] or now, x["code"]))
    return Snapshot(at_risk, likely, model.size, clock.time())


class ForecastCache:
    """The latest model and scoring, for the dossier view, the list and the gauge
    `motcua_dossiers_at_risk` (a scrape never waits on PostgreSQL: `refresh` sets it)."""

    def __init__(self) -> None:
        self.snapshot = Snapshot()
        self.model: Model | None = None
        self.index: WorkdayIndex | None = None

    async def refresh(self, db: asyncpg.Pool | asyncpg.Connection, cal: Calendar,
                      catalog: Catalog | None = None) -> Snapshot:
        now = datetime.now(cal.tz)
        model = await learn(db, cal, now)
        snapshot = await assess(db, cal, now, model, catalog)
        # Units no longer at risk go to 0 rather than vanish (an alert sees them resolve).
        for unit in set(self.snapshot.at_risk) - set(snapshot.at_risk):
            DOSSIERS_AT_RISK.labels(unit).set(0)
        for unit, n in snapshot.at_risk.items():
            DOSSIERS_AT_RISK.labels(unit).set(n)
        self.snapshot, self.model, self.index = snapshot, model, WorkdayIndex(cal)
        return snapshot

    def risk_of(self, cal: Calendar, d: Open, now: datetime) -> Risk | None:
        """`d`'s forecast under the cached model (None before the first refresh)."""
        if self.model is None or self.index is None:
            return None
        return score(self.model, self.index, cal, d, now)

    async def run_refresher(self, pool: asyncpg.Pool, cal: Calendar,
                            interval: float = REFRESH_SECONDS,
                            catalog: Callable[[], Catalog] | None = None) -> None:
        """Refresh forever (with the catalog `catalog` gives at each turn, for the steps); a
        failed refresh keeps the previous snapshot."""
        while True:
            try:
                await self.refresh(pool, cal, catalog() if catalog is not None else None)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("forecast_refresh_failed", exc_info=True)
            await asyncio.sleep(interval)


FORECAST = ForecastCache()


def dossier_risk(cal: Calendar, d: Dossier, now: datetime) -> Risk | None:
    """The cached model's forecast for a dossier folded from its events (`sla.risk`); None
    once its result is ready or it is closed, or before the model's first refresh."""
    if d.state is None or d.state.value not in OPEN_STATES or d.received_at is None:
        return None
    return FORECAST.risk_of(cal, open_of(d), now)


def open_of(d: Dossier) -> Open:
    """A folded dossier as the forecast scores it, its steps from its own plan."""
    assert d.state is not None and d.received_at is not None
    run = walk.current(d.step_runs)
    plan = d.step_plan
    left = None if plan is None or run is None else sum(
        s.allowance_hours or 0 for s in plan.steps[run.step + 1:])
    return Open(
        code=d.code, unit_code=d.unit_code, procedure_code=d.procedure_code,
        state=d.state.value, received_at=d.received_at, due_at=d.judged_due_at,
        pauses=tuple((p.start, p.end) for p in d.pauses), paused_at=d.paused_at,
        late_by_supplement=d.late_by_supplement,
        step_due_at=run.due_at if run is not None else None, steps_left_hours=left)


# -- backtest --------------------------------------------------------------------------------

_AT_CUTOFF = """
SELECT code, unit_code, procedure_code, state, received_at, finished_at,
       judged_due_at AS due_at, timeliness, pause_starts, pause_ends,
       late_by_supplement
FROM dossiers
WHERE received_at < $1 AND (finished_at IS NULL OR finished_at >= $1) AND due_at IS NOT NULL
  AND state <> 'withdrawn' AND ($2::text IS NULL OR unit_code = $2)
"""


async def backtest(db: asyncpg.Pool | asyncpg.Connection, cal: Calendar,
                   cutoffs: Sequence[datetime], *, threshold: float = AT_RISK,
                   unit: str | None = None) -> dict[str, Any]:
    """Calibration on history: at each cutoff, learn from the year before it, forecast the
    dossiers open then that have finished since, and compare with how they ended. Those the
    state already decides (overdue at the cutoff, late flag) are counted apart: they say
    nothing of the model. Pauses and the due time are those recorded at the end (the read
    model keeps no earlier state), so a dossier paused after a cutoff is scored as if it had
    known of that pause: an approximation."""
    index = WorkdayIndex(cal)
    bins = [[0, 0, 0.0] for _ in range(10)]  # dossiers, late, sum of p
    flagged = flagged_late = scored = late_total = decided = samples = 0
    brier = 0.0
    for cutoff in cutoffs:
        model = await learn(db, cal, cutoff)
        samples += model.size
        for r in await db.fetch(_AT_CUTOFF, cutoff, unit):
            if r["finished_at"] is None:
                continue  # outcome unknown yet
            bounds = list(zip(r["pause_starts"] or [], r["pause_ends"] or [], strict=True))
            d = Open(code=r["code"], unit_code=r["unit_code"],
                     procedure_code=r["procedure_code"], state=r["state"],
                     received_at=r["received_at"], due_at=r["due_at"],
                     pauses=tuple((s, e) for s, e in bounds if e < cutoff),
                     paused_at=next((s for s, e in bounds if s < cutoff <= e), None))
            risk = score(model, index, cal, d, cutoff)
            if risk is None:
                continue
            if risk.basis not in ("procedure_unit", "procedure", "all"):
                decided += 1
                continue
            # Late as the model counts it (Biểu 06 dates; refusals carry no recorded verdict).
            late = int(bool(r["late_by_supplement"]) or (
                r["finished_at"].astimezone(cal.tz).date()
                > r["due_at"].astimezone(cal.tz).date()))
            scored += 1
            late_total += late
            p = risk.probability
            brier += (p - late) ** 2
            b = bins[min(int(p * 10), 9)]
            b[0], b[1], b[2] = b[0] + 1, b[1] + late, b[2] + p
            if p >= threshold:
                flagged += 1
                flagged_late += late
    return {
        "cutoffs": [c.isoformat() for c in cutoffs], "model_samples": samples,
        "scored": scored, "decided_by_state": decided, "late": late_total,
        "threshold": threshold, "flagged": flagged, "flagged_late": flagged_late,
        "flagged_late_share": round(flagged_late / flagged, 4) if flagged else None,
        "brier": round(brier / scored, 4) if scored else None,
        # Expected calibration error: |mean forecast - share late| per tenth, weighted.
        "calibration_error": round(sum(abs(s - k) for n, k, s in bins) / scored, 4)
        if scored else None,
        "reliability": [{"p_from": i / 10, "p_to": (i + 1) / 10, "dossiers": int(n),
                         "mean_p": round(s / n, 4), "late_share": round(k / n, 4)}
                        for i, (n, k, s) in enumerate(bins) if n],
    }
