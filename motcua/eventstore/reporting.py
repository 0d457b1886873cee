"""Report pre-aggregation kept by the projector, in the same transaction as the read models.

Two tables (migration 0004): `report_facts`, one row per dossier with the office dates the SLA
reports count on, and `report_counts`, additive counts per (unit, procedure, bucket) at three
grains (day, month, year). For each batch the projector hands over, the touched dossiers'
facts are read, advanced event by event, and the difference between each dossier's old and new
contribution is added to the counts. A due time that moves (supplement received, extension,
calendar correction) just moves the dossier's `overdue_from`, i.e. one -1 and one +1.

Exactly once: the projector applies each event once per checkpoint advance, in the transaction
that advances the checkpoint, so these additions commit with it or not at all; a rebuild
empties both tables (`reset`) and replays every event. `recount` recomputes the counts from the
facts in SQL (after a bulk load of facts, e.g. `bench/report_scale.py`, whose facts come from
`advance` in Python; the tests check it equals the incremental path). No verdict is derived in
SQL: a fact's `timeliness` is the one `advance` took from the domain's rule.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from typing import NamedTuple, TypedDict

import asyncpg

from domain import events as ev
from domain.decide import timeliness_at
from domain.dossier import Dossier
from domain.due import overdue_from_day
from domain.states import DossierState, Timeliness
from motcua.eventstore.store import Conn

DAY, MONTH, YEAR = 0, 1, 2
GRAINS = (DAY, MONTH, YEAR)
# Keys counted: (unit, procedure), (unit, all), (all, all), (all, procedure); "all" is ''.
BOTH, UNIT, PROVINCE, PROCEDURE = 0, 1, 2, 3
# The legs of transferred dossiers (`Leg`), counted only per unit: (unit, procedure) and
# (unit, all). A report per unit reads BOTH + LEG or UNIT + LEG_UNIT (`motcua.reports.sla`).
LEG, LEG_UNIT = 4, 5
ALL = ""
MEASURES = ("recv_counter", "recv_online", "recv_postal", "res_early", "res_on_time",
            "res_late", "res_overdue", "overdue_delta", "sat_very_satisfied", "sat_satisfied",
            "sat_not_satisfied", "unhappy", "res_closed_on_time", "res_closed_late",
            "dig_components", "dig_reused", "dig_national", "dig_result")
# Decision 766 group 4 (issue 26): the file flags of a fact and the measure each counts, on the
# receipt date (`motcua.reports.sla`, definition "qd766-4").
FILE_FLAGS = {"has_component_file": "dig_components", "has_reused_file": "dig_reused",
              "has_national_store_file": "dig_national", "has_result_file": "dig_result"}
# The states in which processing ended without a result: refused after acceptance, withdrawn
# (then stopped), stopped. Report definition 2026-12.1 (motcua.reports.sla): such an end by
# the due date is "closed_on_time" (Biểu 06 "Đúng hạn", never "Trước hạn"), after it
# "closed_late" ("Quá hạn"), and both are shown apart as well.
CLOSED_STATES = frozenset({DossierState.REFUSED, DossierState.WITHDRAWN, DossierState.STOPPED})
_INDEX = {m: i for i, m in enumerate(MEASURES)}


class Applied(NamedTuple):
    """One projected event with the dossier's state before and after it."""

    event: ev.Event
    before: Dossier
    after: Dossier


@dataclasses.dataclass(frozen=True)
class Fact:
    """What the reports need to know about one dossier (a row of `report_facts`)."""

    code: str
    unit_code: str
    procedure_code: str
    channel: str
    received_day: date
    resolved_day: date | None = None
    timeliness: str | None = None
    overdue_from: date | None = None
    late_flag_day: date | None = None
    rated_day: date | None = None
    satisfaction: str | None = None
    # First complaint or "not satisfied" rating (Decision 766 item 5.4 counts such dossiers).
    unhappy_day: date | None = None
    # Files on the dossier (issue 26; Decision 766 group 4): a component scanned, reused or
    # taken from the national data store, and a signed result.
    has_component_file: bool = False
    has_reused_file: bool = False
    has_national_store_file: bool = False
    has_result_file: bool = False


FACT_COLUMNS = tuple(f.name for f in dataclasses.fields(Fact))


def office_day(instant: datetime, tz: tzinfo) -> date:
    """The office date of an instant (Biểu 06 compares dates in the office time zone `tz`,
    the calendar's)."""
    return instant.astimezone(tz).date()


def bucket(grain: int, day: date) -> date:
    """The first day of the day, month or year holding `day`."""
    if grain == DAY:
        return day
    return day.replace(day=1) if grain == MONTH else date(day.year, 1, 1)


def overdue_from(s: Dossier, received_day: date, late_flag_day: date | None,
                 tz: tzinfo) -> date | None:
    """The first day at whose end `s`, still in progress, counts as overdue: its judged due
    date (`domain.due.overdue_from_day`: none while it waits for a supplement asked for within
    time), or a 766 late flag, whichever comes first."""
    day = overdue_from_day(s.judged_due_at, s.paused_at, tz)
    if late_flag_day is not None:
        day = late_flag_day if day is None else min(day, late_flag_day)
    return None if day is None else max(day, received_day)


def advance(prev: Fact | None, a: Applied, tz: tzinfo) -> Fact | None:
    """The dossier's fact after one projected event (pure); dates are office dates in `tz`."""
    s, event = a.after, a.event
    if s.state is None or s.received_at is None:
        return prev
    received_day = office_day(s.received_at, tz)
    late_flag = prev.late_flag_day if prev is not None else None
    if (isinstance(event, ev.SupplementRequested) and event.counts_as_late
            and late_flag is None):
        late_flag = office_day(event.at, tz)
    rated_day = prev.rated_day if prev is not None else None
    if isinstance(event, ev.ServiceRated) and rated_day is None:
        rated_day = office_day(event.at, tz)
    satisfaction = s.satisfaction.value if s.satisfaction is not None else None
    rated = rated_day if satisfaction is not None else None
    unhappy = prev.unhappy_day if prev is not None else None
    if unhappy is None and (isinstance(event, ev.ComplaintRecorded) or (
            isinstance(event, ev.ServiceRated) and event.satisfaction.value == "not_satisfied")):
        unhappy = office_day(event.at, tz)
    files = _file_flags(prev, event)
    if prev is not None and prev.resolved_day is not None:  # the verdict is final
        return dataclasses.replace(prev, rated_day=rated, satisfaction=satisfaction,
                                   unhappy_day=unhappy, **files)
    base = Fact(code=s.code, unit_code=s.unit_code, procedure_code=s.procedure_code,
                channel=s.channel.value, received_day=received_day, late_flag_day=late_flag,
                rated_day=rated, satisfaction=satisfaction, unhappy_day=unhappy, **files)
    if s.finished_at is None:
        return dataclasses.replace(base,
                                   overdue_from=overdue_from(s, received_day, late_flag, tz))
    # Resolved by this event: judged on the state just before it (closing clears the pause).
    verdict = s.timeliness or timeliness_at(s, s.finished_at)
    return dataclasses.replace(
        base, resolved_day=office_day(s.finished_at, tz), timeliness=verdict_of(s, verdict),
        overdue_from=overdue_from(a.before, received_day, late_flag, tz))


class FileFlags(TypedDict):
    """The file flags of a `Fact` (`FILE_FLAGS`), as keyword arguments."""

    has_component_file: bool
    has_reused_file: bool
    has_national_store_file: bool
    has_result_file: bool


def _file_flags(prev: Fact | None, event: ev.Event) -> FileFlags:
    """The fact's file flags after `event` (once set, kept)."""
    flags = FileFlags(
        has_component_file=prev is not None and prev.has_component_file,
        has_reused_file=prev is not None and prev.has_reused_file,
        has_national_store_file=prev is not None and prev.has_national_store_file,
        has_result_file=prev is not None and prev.has_result_file)
    if isinstance(event, ev.FileAttached):
        if event.purpose == "result":
            flags["has_result_file"] = True
        else:
            flags["has_component_file"] = True
            flags["has_reused_file"] |= event.reused
            flags["has_national_store_file"] |= event.from_national_store
    return flags


def verdict_of(s: Dossier, verdict: Timeliness) -> str:
    """The fact's verdict: the domain's early / on time / late for a dossier with a result;
    for one ended without a result (`CLOSED_STATES`), closed_on_time by its due date (an early
    refusal is not early service) or closed_late after it (Decision 766 item 2.1 judges such
    an end by end <= appointment only; report definition 2026-12.1)."""
    if s.state in CLOSED_STATES:
        return "closed_late" if verdict is Timeliness.LATE else "closed_on_time"
    return verdict.value


@dataclasses.dataclass(frozen=True)
class Leg:
    """One leg of a transferred dossier: a stretch a unit other than the receiving one held it
    (a row of `report_legs`). Biểu 06 and Decision 766 per unit count it as a dossier that
    unit handled (docs/legal-rules.md, "Legs of a transferred dossier"; our reading):
    received on the day its share began (`DossierTransferred.counted_from`), resolved on the
    day it handed the dossier on (transferred onward, returned as unfit, result sent back) or
    the dossier's processing ended while it held it; judged against the dossier's legal due
    time by the same date rule (a unit that hands a dossier on after its due date handed it on
    late; `domain.decide.timeliness_at`); in progress and overdue like the dossier while held.
    """

    code: str
    leg: int  # 1 = the first transfer
    unit_code: str
    procedure_code: str
    channel: str
    received_day: date
    resolved_day: date | None = None
    timeliness: str | None = None
    overdue_from: date | None = None

    def as_fact(self) -> Fact:
        """The leg as the counts see a dossier (`contributions`)."""
        return Fact(code=self.code, unit_code=self.unit_code,
                    procedure_code=self.procedure_code, channel=self.channel,
                    received_day=self.received_day, resolved_day=self.resolved_day,
                    timeliness=self.timeliness, overdue_from=self.overdue_from)


LEG_COLUMNS = tuple(f.name for f in dataclasses.fields(Leg))


def advance_legs(legs: tuple[Leg, ...], fact: Fact | None, a: Applied,
                 tz: tzinfo) -> tuple[Leg, ...]:
    """The dossier's legs after one projected event (pure), given its fact after the event
    (`advance`); dates are office dates in `tz`."""
    s, event = a.after, a.event
    if s.state is None or s.received_at is None:
        return legs
    held = legs[-1] if legs and legs[-1].resolved_day is None else None
    late_flag = fact.late_flag_day if fact is not None else None

    def closed(leg: Leg, at: datetime, verdict: str) -> Leg:
        # Frozen at its end: overdue from the day the dossier was, judged before the event.
        return dataclasses.replace(
            leg, resolved_day=office_day(at, tz), timeliness=verdict,
            overdue_from=overdue_from(a.before, leg.received_day, late_flag, tz))

    def opened(unit: str, at: datetime) -> Leg:
        day = max(office_day(at, tz), office_day(s.received_at or at, tz))
        return Leg(code=s.code, leg=len(legs) + 1, unit_code=unit,
                   procedure_code=s.procedure_code, channel=s.channel.value,
                   received_day=day, overdue_from=overdue_from(s, day, late_flag, tz))

    hand_on = isinstance(event, ev.DossierTransferred | ev.TransferReturned | ev.ResultSentBack)
    if hand_on and held is not None:
        legs = (*legs[:-1], closed(held, event.at, timeliness_at(a.before, event.at).value))
        held = None
    if isinstance(event, ev.DossierTransferred):
        if event.to_unit == s.unit_code:
            # Back to the receiving unit (a step of its own after another unit's, patch
            # `step-transfer-v1`, or a leader's transfer back): it counts the dossier itself,
            # never as a leg.
            return legs
        return (*legs, opened(event.to_unit, event.counted_from))
    if isinstance(event, ev.TransferReturned) and event.to_unit != s.unit_code:
        return (*legs, opened(event.to_unit, event.at))  # back to an intermediate unit
    if held is None or hand_on:
        return legs
    if fact is not None and fact.resolved_day is not None and s.finished_at is not None:
        # Processing ended while this unit held the dossier: the leg ends with it, with the
        # dossier's own verdict.
        assert fact.timeliness is not None
        return (*legs[:-1], closed(held, s.finished_at, fact.timeliness))
    return (*legs[:-1], dataclasses.replace(
        held, overdue_from=overdue_from(s, held.received_day, late_flag, tz)))


def contributions(f: Fact) -> Iterable[tuple[date, str, int]]:
    """What one dossier adds to the daily counts: (day, measure, +1/-1)."""
    yield f.received_day, f"recv_{f.channel}", 1
    if f.resolved_day is not None:
        yield f.resolved_day, f"res_{f.timeliness}", 1
    if f.overdue_from is not None and (f.resolved_day is None
                                       or f.overdue_from < f.resolved_day):
        yield f.overdue_from, "overdue_delta", 1
        if f.resolved_day is not None:
            yield f.resolved_day, "overdue_delta", -1
            yield f.resolved_day, "res_overdue", 1
    if f.rated_day is not None:
        yield f.rated_day, f"sat_{f.satisfaction}", 1
    if f.unhappy_day is not None:
        yield f.unhappy_day, "unhappy", 1
    for flag, measure in FILE_FLAGS.items():
        if getattr(f, flag):
            yield f.received_day, measure, 1


Key = tuple[int, int, date, str, str]


def _add(deltas: dict[Key, list[int]], f: Fact, sign: int, *, leg: bool = False) -> None:
    scopes = ((LEG, f.unit_code, f.procedure_code), (LEG_UNIT, f.unit_code, ALL)) if leg else (
        (BOTH, f.unit_code, f.procedure_code), (UNIT, f.unit_code, ALL),
        (PROVINCE, ALL, ALL), (PROCEDURE, ALL, f.procedure_code))
    for day, measure, n in contributions(f):
        for grain in GRAINS:
            first = bucket(grain, day)
            for scope, unit, procedure in scopes:
                key = (grain, scope, first, unit, procedure)
                deltas.setdefault(key, [0] * len(MEASURES))[_INDEX[measure]] += sign * n


def count_deltas(changes: Iterable[tuple[Fact | None, Fact]],
                 leg_changes: Iterable[tuple[Leg | None, Leg]] = ()) -> dict[Key, list[int]]:
    """The net change of the counts when each old fact (or none) becomes the new one, and
    each old leg (or none) the new one."""
    deltas: dict[Key, list[int]] = {}
    for old, new in changes:
        if old is not None:
            _add(deltas, old, -1)
        _add(deltas, new, +1)
    for old_leg, new_leg in leg_changes:
        if old_leg is not None:
            _add(deltas, old_leg.as_fact(), -1, leg=True)
        _add(deltas, new_leg.as_fact(), +1, leg=True)
    return {k: v for k, v in deltas.items() if any(v)}


_UPSERT_FACTS = f"""
INSERT INTO report_facts ({", ".join(FACT_COLUMNS)})
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[],
                     $7::text[], $8::date[], $9::date[], $10::date[], $11::text[],
                     $12::date[], $13::bool[], $14::bool[], $15::bool[], $16::bool[])
ON CONFLICT (code) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in FACT_COLUMNS[1:])}
"""
_UPSERT_LEGS = f"""
INSERT INTO report_legs ({", ".join(LEG_COLUMNS)})
SELECT * FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[], $5::text[], $6::date[],
                     $7::date[], $8::text[], $9::date[])
ON CONFLICT (code, leg) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in LEG_COLUMNS[2:])}
"""
_KEY = "grain, scope, bucket, unit_code, procedure_code"
_UPSERT_COUNTS = f"""
INSERT INTO report_counts ({_KEY}, {", ".join(MEASURES)})
SELECT * FROM unnest($1::int2[], $2::int2[], $3::date[], $4::text[], $5::text[],
                     {", ".join(f"${i + 6}::int4[]" for i in range(len(MEASURES)))})
ON CONFLICT ({_KEY}) DO UPDATE SET
    {", ".join(f"{m} = report_counts.{m} + excluded.{m}" for m in MEASURES)}
"""


def _fact(row: asyncpg.Record) -> Fact:
    return Fact(**{c: row[c] for c in FACT_COLUMNS})


async def apply(conn: Conn, applied: list[Applied], tz: tzinfo) -> None:
    """Update the report aggregates for a batch of projected events (office dates in `tz`)."""
    codes = sorted({a.after.code for a in applied if a.after.code})
    if not codes:
        return
    rows = await conn.fetch(
        f"SELECT {', '.join(FACT_COLUMNS)} FROM report_facts WHERE code = ANY($1::text[])",
        codes)
    old = {r["code"]: _fact(r) for r in rows}
    current: dict[str, Fact | None] = dict(old)
    # Legs only for dossiers ever transferred: no extra round trip for the others.
    legged = sorted({a.after.code for a in applied if a.after.transfers > 0})
    old_legs: dict[tuple[str, int], Leg] = {}
    if legged:
        old_legs = {(r["code"], r["leg"]): Leg(**{c: r[c] for c in LEG_COLUMNS})
                    for r in await conn.fetch(
                        f"SELECT {', '.join(LEG_COLUMNS)} FROM report_legs "
                        "WHERE code = ANY($1::text[]) ORDER BY code, leg", legged)}
    legs: dict[str, tuple[Leg, ...]] = {c: () for c in legged}
    for leg in old_legs.values():
        legs[leg.code] = (*legs[leg.code], leg)
    for a in applied:
        current[a.after.code] = advance(current.get(a.after.code), a, tz)
        if a.after.transfers > 0:
            legs[a.after.code] = advance_legs(legs[a.after.code], current[a.after.code], a, tz)
    changed = sorted((f for c, f in current.items() if f is not None and f != old.get(c)),
                     key=lambda f: f.code)
    changed_legs = [g for code in legged for g in legs[code]
                    if g != old_legs.get((g.code, g.leg))]
    if changed:
        rows_out = [tuple(getattr(f, c) for c in FACT_COLUMNS) for f in changed]
        await conn.execute(_UPSERT_FACTS, *zip(*rows_out, strict=True))
    if changed_legs:
        legs_out = [tuple(getattr(g, c) for c in LEG_COLUMNS) for g in changed_legs]
        await conn.execute(_UPSERT_LEGS, *zip(*legs_out, strict=True))
    deltas = count_deltas(((old.get(f.code), f) for f in changed),
                          ((old_legs.get((g.code, g.leg)), g) for g in changed_legs))
    if deltas:
        keys = sorted(deltas)
        columns = [list(col) for col in zip(*keys, strict=True)]
        values = [[deltas[k][i] for k in keys] for i in range(len(MEASURES))]
        await conn.execute(_UPSERT_COUNTS, *columns, *values)


async def reset(conn: Conn) -> None:
    """Empty the report aggregates (rebuild from zero)."""
    await conn.execute("TRUNCATE report_facts, report_counts, report_legs")


def _part(day: str, where: str, measures: dict[str, str], table: str = "report_facts") -> str:
    cols = ", ".join(f"{measures.get(m, '0')} AS {m}" for m in MEASURES)
    return (f"SELECT unit_code, procedure_code, {day} AS day, {cols} "
            f"FROM {table} WHERE {where}")


def _recount_sql() -> list[str]:
    """INSERT .. SELECTs doing what `contributions` and `_add` do, for every fact at once:
    daily (unit, procedure) counts from the facts, then the other scopes and grains from
    those; the legs (`report_legs`) likewise into their own scopes."""
    overdue = ("overdue_from IS NOT NULL AND (resolved_day IS NULL "
               "OR overdue_from < resolved_day)")
    choice = {"recv": ("channel", ("counter", "online", "postal")),
              "res": ("timeliness", ("early", "on_time", "late", "closed_on_time",
                                      "closed_late")),
              "sat": ("satisfaction", ("very_satisfied", "satisfied", "not_satisfied"))}
    one = {p: {f"{p}_{v}": f"({col} = '{v}')::int" for v in values}
           for p, (col, values) in choice.items()}
    def parts(table: str) -> list[str]:
        common = [_part("received_day", "true", one["recv"], table),
                  _part("resolved_day", "resolved_day IS NOT NULL", one["res"], table),
                  _part("overdue_from", overdue, {"overdue_delta": "1"}, table),
                  _part("resolved_day", f"{overdue} AND resolved_day IS NOT NULL",
                        {"overdue_delta": "-1", "res_overdue": "1"}, table)]
        if table == "report_legs":  # a leg is neither rated nor complained about
            return common
        return [*common, _part("rated_day", "rated_day IS NOT NULL", one["sat"], table),
                _part("unhappy_day", "unhappy_day IS NOT NULL", {"unhappy": "1"}, table),
                _part("received_day", "true", {m: f"{flag}::int" for flag, m
                                               in FILE_FLAGS.items()}, table)]

    measures = ", ".join(MEASURES)
    sums = ", ".join(f"sum({m})" for m in MEASURES)
    insert = f"INSERT INTO report_counts ({_KEY}, {measures}) "
    sql = [f"{insert} SELECT 0, {scope}, day, unit_code, procedure_code, {sums} "
           f"FROM ({' UNION ALL '.join(parts(table))}) x GROUP BY 3, 4, 5"
           for scope, table in ((BOTH, "report_facts"), (LEG, "report_legs"))]
    for scope, unit, procedure, base in (
            (UNIT, "unit_code", "''", BOTH), (PROVINCE, "''", "''", BOTH),
            (PROCEDURE, "''", "procedure_code", BOTH), (LEG_UNIT, "unit_code", "''", LEG)):
        sql.append(f"{insert} SELECT 0, {scope}, bucket, {unit}, {procedure}, {sums} "
                   f"FROM report_counts WHERE grain = 0 AND scope = {base} GROUP BY 3, 4, 5")
    for grain, unit in ((MONTH, "month"), (YEAR, "year")):
        sql.append(f"{insert} SELECT {grain}, scope, date_trunc('{unit}', bucket)::date, "
                   f"unit_code, procedure_code, {sums} FROM report_counts "
                   f"WHERE grain = {grain - 1} GROUP BY 2, 3, 4, 5")
    return sql


_RECOUNT = _recount_sql()


async def recount(conn: Conn) -> None:
    """Recompute every count from `report_facts` (after a bulk load of facts). The projector
    waits meanwhile (it writes counts after facts, so no change is lost or counted twice)."""
    async with conn.transaction():
        await conn.execute("TRUNCATE report_counts")
        await conn.execute("SET LOCAL work_mem = '256MB'")
        for sql in _RECOUNT:
            await conn.execute(sql)
