"""SLA reports against a count by hand from the event store (see `tests/report_data.py`),
projected in small batches; rebuild and recount give the same numbers; the rolled-up keys
agree with their parts; a bulk load of 100,000 dossiers stays fast."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest

from domain.states import Channel
from motcua.eventstore import projector, reporting
from motcua.reports.sla import decompose, sla_report
from tests.report_data import NOW, PROCS, UNITS, Hand, count_by_hand, counted, data

__all__ = ["data"]  # the module-scoped fixture

PERIODS = [(date(2021, 1, 1), date(2021, 1, 31)), (date(2021, 2, 1), date(2021, 2, 28)),
           (date(2021, 2, 15), date(2021, 3, 14)), (date(2021, 3, 1), date(2021, 4, 30)),
           (date(2021, 5, 1), date(2021, 5, 31)), (date(2021, 1, 1), date(2021, 12, 31)),
           (date(2021, 6, 1), date(2021, 6, 30)), (date(2020, 12, 1), date(2020, 12, 31))]
SHAPES = [(UNITS[0], None, ()), (UNITS[1], None, ("procedure",)),
          (None, PROCS[0], ("unit", "procedure")), (None, None, ("unit",)),
          (UNITS[0], PROCS[1], ())]


@pytest.mark.parametrize(("start", "end"), PERIODS)
async def test_report_agrees_with_count_by_hand(pool: asyncpg.Pool, data: dict[str, Hand],
                                                start: date, end: date) -> None:
    """For every period (carried over, in progress, not over yet, before anything) and every
    filter and grouping, the report's counts equal the count by hand."""
    hands = list(data.values())
    for unit, proc, group_by in SHAPES:
        report = await sla_report(pool, period_start=start, period_end=end, unit=unit,
                                  procedure=proc, group_by=group_by, as_of=NOW)
        got = counted(report)
        if unit is None:  # other tests' units may have dossiers too: look at ours only
            got = {k: v for k, v in got.items() if k[0] in UNITS}
        assert got == count_by_hand(hands, start, end, NOW, unit, proc, group_by), (
            unit, proc, group_by)
        totals = report.totals.as_dict()
        assert totals["received_total"] == totals["resolved_total"] + totals["in_progress_total"]


def _nonzero(table: str = "report_counts") -> str:
    return (f"SELECT * FROM {table} WHERE {' OR '.join(f'{m} <> 0' for m in reporting.MEASURES)}"
            " ORDER BY grain, scope, bucket, unit_code, procedure_code")


async def test_rebuild_gives_the_same_facts_counts_and_reports(pool: asyncpg.Pool,
                                                               data: dict[str, Hand]) -> None:
    """Replaying every event from zero in large batches gives the same facts, counts and
    reports as the projection made in batches of 7 events."""
    async def snapshot(conn: Any) -> list[Any]:
        facts = await conn.fetch("SELECT * FROM report_facts WHERE code = ANY($1) ORDER BY code",
                                 list(data))
        counts = [r for r in await conn.fetch(_nonzero()) if r["unit_code"] in UNITS]
        shown = [(await sla_report(conn, period_start=s, period_end=e, unit=u,
                                   group_by=("procedure",), as_of=NOW)).as_dict()
                 for s, e in PERIODS for u in UNITS]
        return [[tuple(r) for r in facts], [tuple(r) for r in counts], shown]

    async with pool.acquire() as conn:
        await projector.catch_up(conn, count_metrics=False)
        before = await snapshot(conn)
        await projector.rebuild(conn)
        after = await snapshot(conn)
    assert len(before[0]) == len(data) and before == after


async def test_recount_from_facts_equals_the_incremental_counts(pool: asyncpg.Pool,
                                                                data: dict[str, Hand]) -> None:
    """The counts recomputed from the facts in SQL equal those the projector moved event by
    event, at every grain and scope."""
    async with pool.acquire() as conn:
        await projector.catch_up(conn, count_metrics=False)
        incremental = [tuple(r) for r in await conn.fetch(_nonzero())]
        await reporting.recount(conn)
        recounted = [tuple(r) for r in await conn.fetch(_nonzero())]
    assert incremental == recounted
    assert any(r[3] == UNITS[0] for r in recounted)


async def test_province_and_unit_totals_equal_the_sum_of_their_groups(
        pool: asyncpg.Pool, data: dict[str, Hand]) -> None:
    """The rolled-up keys (all procedures, all units) give the same totals as summing the
    (unit, procedure) rows."""
    for start, end in PERIODS:
        for unit, proc in ((None, None), (UNITS[0], None), (None, PROCS[1])):
            whole = await sla_report(pool, period_start=start, period_end=end, unit=unit,
                                     procedure=proc, as_of=NOW)
            parts = await sla_report(pool, period_start=start, period_end=end, unit=unit,
                                     procedure=proc, group_by=("unit", "procedure"), as_of=NOW)
            assert whole.totals == parts.totals, (start, end, unit, proc)


def test_decompose_covers_each_day_once() -> None:
    """Any range of days is cut into aligned years, months and days covering it exactly."""
    rng = random.Random(11)
    for _ in range(3000):
        lo = date(2019, 1, 1) + timedelta(days=rng.randrange(1500))
        hi = lo + timedelta(days=rng.randrange(800))
        days: list[date] = []
        for grain, first, end in decompose(lo, hi):
            assert reporting.bucket(grain, first) == first
            assert grain == reporting.DAY or reporting.bucket(grain, end) == end
            days += [first + timedelta(days=i) for i in range((end - first).days)]
        assert sorted(days) == [lo + timedelta(days=i) for i in range((hi - lo).days)]


Fact = tuple[str, str, str, str, date, date | None, str | None, date, None, date | None,
             str | None, None, bool, bool, bool, bool]
END_2019 = date(2019, 12, 31)


def synthetic(n: int) -> list[Fact]:
    """`n` report facts of 40 units x 60 procedures received in 2019 (5% never resolved)."""
    rng = random.Random(5)
    out: list[Fact] = []
    for i in range(n):
        unit, proc = f"998.{i % 40:02d}.99.H98", f"8.{rng.randrange(60):06d}"
        received = date(2019, 1, 1) + timedelta(days=rng.randrange(365))
        due = received + timedelta(days=rng.randint(1, 12))
        resolved = None if rng.random() < 0.05 else received + timedelta(days=rng.randint(0, 15))
        verdict = None if resolved is None else (
            "early" if resolved < due else "on_time" if resolved == due else "late")
        rated = resolved + timedelta(days=1) if resolved and i % 3 == 0 else None
        out.append((f"{unit}-{received:%y%m%d}-{i:06d}", unit, proc, list(Channel)[i % 3].value,
                    received, resolved, verdict, due, None, rated, "satisfied" if rated else None,
                    None,  # unhappy_day (Decision 766 item 5.4)
                    # Files (Decision 766 group 4): component, reused, national store, result
                    i % 2 == 0, i % 10 == 0, False, resolved is not None and i % 4 == 0))
    return out


async def test_province_year_is_fast_over_100k_bulk_loaded_dossiers(pool: asyncpg.Pool) -> None:
    """With 100,000 dossiers loaded in bulk (COPY into the facts, then `recount`), the
    province's report for a year (total, and by unit) and a unit's for a month each take well
    under a second, and agree with the facts."""
    facts = synthetic(100_000)
    cases: list[dict[str, Any]] = [
        {"period_start": date(2019, 1, 1), "period_end": END_2019},
        {"period_start": date(2019, 1, 1), "period_end": END_2019, "group_by": ("unit",)},
        {"period_start": date(2019, 3, 1), "period_end": date(2019, 3, 31),
         "unit": "998.07.99.H98"}]
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("report_facts", records=facts,
                                         columns=reporting.FACT_COLUMNS)
        try:
            await reporting.recount(conn)
            await conn.execute("ANALYZE report_counts")
            timings = []
            for kwargs in cases:
                started = time.perf_counter()
                await sla_report(conn, **kwargs)
                timings.append(time.perf_counter() - started)
            year = await sla_report(conn, **cases[1])
        finally:
            await conn.execute("DELETE FROM report_facts WHERE code LIKE '998.%'")
            await reporting.recount(conn)
    print("report seconds (province year, by unit, unit month):", timings)  # shown with -s
    assert max(timings) < 1.0, timings
    rows = {r.unit_code: r.as_dict() for r in year.rows}
    for unit in ("998.00.99.H98", "998.39.99.H98"):
        mine = [f for f in facts if f[1] == unit]
        assert rows[unit]["received_total"] == len(mine)
        assert rows[unit]["resolved_late"] == sum(
            1 for f in mine if f[6] == "late" and f[5] is not None and f[5] <= END_2019)
        assert rows[unit]["in_progress_overdue"] == sum(
            1 for f in mine if f[7] <= END_2019 and (f[5] is None or f[5] > END_2019))
        # Group 4 on the receipt date, through `recount` (every fact received in 2019).
        assert rows[unit]["digitised_components"] == sum(1 for f in mine if f[12])
        assert rows[unit]["digitised_reused"] == sum(1 for f in mine if f[13])
        assert rows[unit]["electronic_results"] == sum(1 for f in mine if f[15])
