"""Policy what-if and recommend against the real read model (PostgreSQL, projected events).

The constructed history: ten dossiers of one 7-working-day procedure, all received on Monday
3 March 2025 at 09:00 and finished at known working-day offsets. Day one is Tuesday 4 March
(the first working day after the date of receipt), so the 7-day due date is Wednesday 12 March
and a 5-day one Monday 10 March. Finished on working days 1, 2, 3, 4, 5, 5, 6, 6, 7 and 8:
under 7 days 8 early, 1 on time, 1 late (rate 0.9); under 5 days 4 early, 2 on time, 4 late
(rate 0.6). Exactly three dossiers (days 6, 6, 7) turn late, and each slack drops by 2 days.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from domain import commands as cmd
from domain import events as ev
from domain.calendar import Calendar
from domain.catalog import Catalog, CountingRule, Procedure, TimeUnit
from domain.clock import due_at, due_soon_at
from domain.contracts import DeadlineRequest, Pause
from domain.deadlines import compute
from domain.decide import decide
from domain.dossier import Dossier, evolve
from domain.states import Channel
from motcua.catalog import io as catalog_io
from motcua.catalog.calendar import load_calendar
from motcua.eventstore import projector, store
from motcua.whatif import simulate as whatif
from motcua.whatif.catalogs import read_policy
from motcua.whatif.recommend import Recommender, recommend
from motcua.whatif.simulate import Clock, WhatIfError
from tests.report_data import NOW, PROCS, UNITS, data, envelopes

__all__ = ["data"]  # the report tests' module-scoped fixture: 48 dossiers of every kind

ROOT = Path(__file__).resolve().parent.parent
UNIT, PROC = "999.15.99.H99", "9.000015"
RECEIVED_DAY = date(2025, 3, 3)
OFFSETS = (1, 2, 3, 4, 5, 5, 6, 6, 7, 8)
SEVEN, FIVE = Clock(7, TimeUnit.WORKING_DAYS), Clock(5, TimeUnit.WORKING_DAYS)
AS_OF = date(2025, 6, 1)


@pytest.fixture(scope="module")
def cal() -> Calendar:
    return load_calendar()


def _life(cal: Calendar, i: int, offset: int) -> tuple[str, list[ev.Event]]:
    code = f"{UNIT}-{RECEIVED_DAY:%y%m%d}-{i + 1:04d}"
    received = cal.at(RECEIVED_DAY, time(9))
    due = due_at(cal, received, 7, TimeUnit.WORKING_DAYS)
    finished = cal.at(cal.nth_working_day_after(RECEIVED_DAY, offset), time(10))
    steps: list[tuple[datetime, cmd.Command]] = [
        (received, cmd.ReceiveDossier(code=code, unit_code=UNIT, procedure_code=PROC,
                                      channel=Channel.COUNTER, applicant_name="Trần Thị Bình")),
        (received.replace(second=1), cmd.SetDeadline(
            due_at=due, due_soon_at=due_soon_at(cal, due, 1), reason="receipt",
            rule="civil_code", amount=7, unit="working_days", calendar_version=cal.version,
            catalog_version="test")),
        (received.replace(minute=30), cmd.AssignOfficer(officer="officer-1")),
        (received.replace(minute=45), cmd.StartProcessing()),
        (finished, cmd.CompleteProcessing(summary="Đã giải quyết")),
        (finished.replace(hour=15), cmd.ReturnResult())]
    state, out = Dossier(), []
    for at, command in steps:
        for event in decide(state, command, at):
            state = evolve(state, event)
            out.append(event)
    return code, out


@pytest.fixture(scope="module")
async def ten(pool: asyncpg.Pool, cal: Calendar) -> list[str]:
    """The ten dossiers, stored as real events and projected into the read model."""
    codes = []
    async with pool.acquire() as conn:
        for i, offset in enumerate(OFFSETS):
            code, events = _life(cal, i, offset)
            await store.append(conn, code, envelopes(code, events))
            codes.append(code)
        await projector.catch_up(conn, count_metrics=False)
    return codes


async def _run(pool: asyncpg.Pool, cal: Calendar, proposed: dict[str, Clock],
               **kw: Any) -> whatif.Result:
    async with pool.acquire() as conn:
        return await whatif.run(conn, start=RECEIVED_DAY, end=RECEIVED_DAY, calendar=cal,
                                baseline={PROC: SEVEN}, proposed=proposed, as_of=AS_OF, **kw)


async def test_cut_from_seven_to_five_days_turns_exactly_three_late(
        pool: asyncpg.Pool, cal: Calendar, ten: list[str]) -> None:
    result = await _run(pool, cal, {PROC: FIVE})
    doc = result.as_dict()
    assert len(doc["rows"]) == 1
    row = doc["rows"][0]
    assert (row["procedure_code"], row["unit_code"], row["received"]) == (PROC, UNIT, 10)
    assert row["baseline"] == {"early": 8, "on_time": 1, "late": 1, "within_time": 0,
                               "overdue": 0}
    assert row["simulated"] == {"early": 4, "on_time": 2, "late": 4, "within_time": 0,
                                "overdue": 0}
    assert (row["baseline_on_time_rate"], row["simulated_on_time_rate"]) == (0.9, 0.6)
    assert (row["flips_to_late"], row["flips_to_on_time"]) == (3, 0)
    assert row["mean_slack_change_days"] == -2.0
    flipped = sorted(f["code"] for f in doc["flips"]["sample"])
    assert flipped == sorted(ten[i] for i, o in enumerate(OFFSETS) if o in (6, 7))
    assert doc["flips"]["count"] == 3
    # The recorded verdicts were decided under the same rule: none differs.
    assert doc["recorded_verdict_differs"]["count"] == 0
    assert doc["policy"] == [{"procedure_code": PROC, "baseline": "7 working_days",
                              "proposed": "5 working_days"}]
    # Ten receipts at one instant: one due-time computation per policy, the rest reused.
    assert doc["memo"]["due_time_computations"] == 2


async def test_cut_zero_reproduces_the_baseline_exactly(
        pool: asyncpg.Pool, cal: Calendar, data: dict[str, Any]) -> None:
    """Over the 48 dossiers of every kind (pauses, extension, second supplement request,
    withdrawn, still open, still paused, calendar correction), `--cut 0` is the baseline."""
    baseline = {p: Clock(3, TimeUnit.WORKING_DAYS) for p in PROCS}
    async with pool.acquire() as conn:
        result = await whatif.run(conn, start=date(2021, 1, 1), end=date(2021, 12, 31),
                                  calendar=cal, baseline=baseline,
                                  proposed=whatif.cut_policy(baseline, 0), as_of=NOW)
        cut = await whatif.run(conn, start=date(2021, 1, 1), end=date(2021, 12, 31),
                               calendar=cal, baseline=baseline,
                               proposed=whatif.cut_policy(baseline, 50), as_of=NOW)
    rows = [r for r in result.rows() if r["unit_code"] in UNITS]
    assert sum(r["received"] for r in rows) == 48
    for r in rows:
        assert r["simulated"] == r["baseline"]
        assert r["simulated_on_time_rate"] == r["baseline_on_time_rate"]
        assert r["mean_slack_change_days"] in (0.0, None)
        assert r["flips_to_late"] == r["flips_to_on_time"] == 0
    assert result.flip_count == 0
    # The dossiers whose due times were set by hand (not by this catalog) are reported apart.
    assert result.differs_count > 0
    # Halving 3 working days to 1 can only make dossiers late, never on time.
    cut_rows = [r for r in cut.rows() if r["unit_code"] in UNITS]
    assert sum(r["flips_to_on_time"] for r in cut_rows) == 0
    assert sum(r["flips_to_late"] for r in cut_rows) > 0
    for before, after in zip(rows, cut_rows, strict=True):
        assert after["simulated_on_time_rate"] <= before["baseline_on_time_rate"]
        assert after["baseline"] == before["baseline"]


async def test_recommend_finds_the_deepest_cut_keeping_the_target(
        pool: asyncpg.Pool, cal: Calendar, ten: list[str]) -> None:
    async with pool.acquire() as conn:
        advice, skipped = await recommend(conn, start=RECEIVED_DAY, end=RECEIVED_DAY,
                                          calendar=cal, baseline={PROC: SEVEN}, target=0.6,
                                          as_of=AS_OF, unit=UNIT)
        strict, _ = await recommend(conn, start=RECEIVED_DAY, end=RECEIVED_DAY, calendar=cal,
                                    baseline={PROC: SEVEN}, target=0.99, as_of=AS_OF, unit=UNIT)
    assert skipped == 0
    # Smallest amounts keeping each on time: 1, 2, 3, 4, 5, 5, 6, 6, 7 and never (day 8).
    [a] = advice
    assert (a["current"], a["recommended"], a["sample"]) == (7, 5, 10)
    assert a["on_time_rate_at_recommended"] == 0.6 and a["baseline_on_time_rate"] == 0.9
    assert any("fewer than 30" in w for w in a["warnings"])
    # 0.99 cannot be met even today (one dossier was late): no cut, and it says so.
    assert strict[0]["recommended"] == 7
    assert any("already below the target" in w for w in strict[0]["warnings"])


def test_recommend_agrees_with_the_whatif_at_every_amount(cal: Calendar) -> None:
    """The bisection's rate under k days equals the what-if's simulated rate under k days."""
    received = cal.at(RECEIVED_DAY, time(9))
    dossiers = [whatif.Inputs(code=f"c{i}", unit_code=UNIT, procedure_code=PROC,
                              state="returned", received_at=received,
                              finished_at=cal.at(cal.nth_working_day_after(RECEIVED_DAY, o),
                                                 time(10)))
                for i, o in enumerate(OFFSETS)]
    folder = Recommender(cal, {PROC: SEVEN}, AS_OF)
    for d in dossiers:
        folder.add(d)
    advice = folder.advice[PROC]
    for k in range(1, 8):
        base = whatif.Simulator(cal, {PROC: SEVEN}, AS_OF)
        sim = whatif.Simulator(cal, {PROC: Clock(k, TimeUnit.WORKING_DAYS)}, AS_OF)
        compare = whatif.Comparison(base, sim, whatif.WorkdayIndex(cal))
        for d in dossiers:
            compare.add(d)
        assert compare.groups[(PROC, UNIT)].as_dict()["simulated_on_time_rate"] == \
            advice.rate(k), k


def test_bad_input_gives_clear_errors(tmp_path: Path, cal: Calendar) -> None:
    with pytest.raises(WhatIfError, match="unknown procedure code"):
        whatif.cut_policy({PROC: SEVEN}, 30, ["1.999999"])
    with pytest.raises(WhatIfError, match="below 100"):
        whatif.cut_policy({PROC: SEVEN}, 100)
    with pytest.raises(WhatIfError, match="before it starts"):
        whatif.period_bounds(date(2025, 2, 1), date(2025, 1, 1), cal)
    proposed = tmp_path / "proposed.csv"
    catalog_io.write_procedures(proposed, [TEST_PROCEDURE])  # as `motcua catalog export`
    assert read_policy(proposed, {PROC: SEVEN}) == {PROC: FIVE}
    header = ",".join(catalog_io.COLUMNS)
    proposed.write_text(f"{header}\n{PROC},Thử,Thử,province,7,working_days,0,working_days,"
                        "QĐ thử,UNVERIFIED,,,,\n", encoding="utf-8")
    with pytest.raises(WhatIfError, match=r"row 2 \(code 9\.000015\)"):
        read_policy(proposed, {PROC: SEVEN})
    catalog_io.write_procedures(proposed, [dataclasses.replace(TEST_PROCEDURE, code="1.999999")])
    with pytest.raises(WhatIfError, match=r"unknown procedure code.*1\.999999"):
        read_policy(proposed, {PROC: SEVEN})


PROCEDURES_YAML = f"""
procedures:
  - code: "{PROC}"
    name: "Thủ tục thử bảy ngày"
    field: "Thử nghiệm"
    level: province
    prescribed_amount: 7
    prescribed_unit: working_days
    source: "UNVERIFIED test procedure"
"""
TEST_PROCEDURE = Procedure(
    code=PROC, name="Thủ tục thử", field="Thử nghiệm", level="province", prescribed_amount=7,
    prescribed_unit=TimeUnit.WORKING_DAYS, reduced_amount=5, reduced_unit=TimeUnit.WORKING_DAYS,
    reduced_source="QĐ thử", source="UNVERIFIED test procedure")


def _cli(args: list[str], dsn: str, catalog: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": dsn, "MOTCUA_PROCEDURES_FILE": str(catalog),
           "MOTCUA_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "motcua.cli", "whatif", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


async def test_cli_table_json_csv_and_errors(postgres: Any, ten: list[str],
                                             tmp_path: Path) -> None:
    catalog = tmp_path / "procedures.yaml"
    catalog.write_text(PROCEDURES_YAML, encoding="utf-8")
    period = ["--from", "2025-03-03", "--to", "2025-03-03", "--unit", UNIT, "--as-of",
              "2025-06-01"]
    done = _cli([*period, "--cut", "28"], postgres.dsn, catalog)
    assert done.returncode == 0, done.stderr
    assert "7 working_days -> 5 working_days" in done.stdout
    assert "dossiers that flip: 3" in done.stdout
    total = next(line for line in done.stdout.splitlines() if line.startswith("TOTAL"))
    assert "0.9000" in total and "0.6000" in total and "8/1/1" in total and "4/2/4" in total
    zero = _cli([*period, "--cut", "0", "--format", "csv"], postgres.dsn, catalog)
    assert zero.returncode == 0, zero.stderr
    header, _group, totals = zero.stdout.splitlines()[:3]
    columns = header.split(",")
    values = dict(zip(columns, totals.split(","), strict=True))
    assert values["baseline_on_time_rate"] == values["simulated_on_time_rate"] == "0.9"
    assert values["flips_to_late"] == "0"
    draft = tmp_path / "draft.csv"
    rec = _cli(["recommend", *period, "--target", "0.6", "--output", str(draft)],
               postgres.dsn, catalog)
    assert rec.returncode == 0, rec.stderr
    assert f"{PROC},Thủ tục thử bảy ngày" in draft.read_text(encoding="utf-8")
    assert read_policy(draft, {PROC: SEVEN}) == {PROC: FIVE}  # it reads back as a proposal
    for bad, message in ((["--from", "2025-13-01", "--to", "2025-03-03", "--cut", "5"],
                          "not a date"),
                         ([*period, "--cut", "10", "--procedure", "1.999999"],
                          "unknown procedure code"),
                         (["--from", "2025-03-04", "--to", "2025-03-03", "--cut", "5"],
                          "--to is before --from"),
                         ([*period], "one of the arguments --catalog --cut is required")):
        failed = _cli(bad, postgres.dsn, catalog)
        assert failed.returncode == 2 and message in failed.stderr, (bad, failed.stderr)
        assert "Traceback" not in failed.stderr


def test_memo_by_date_gives_the_domain_due_time_for_any_hour(cal: Calendar) -> None:
    """Where only the date of receipt counts (rule v2, Civil Code counts in days), the memo
    serves a whole day from one computation: it must equal `due_at` at every hour, day off
    and after-hours receipts included; hour-based and same-day clocks are keyed by instant."""
    sim = whatif.Simulator(cal, {}, AS_OF)
    clocks = [SEVEN, Clock(10, TimeUnit.CALENDAR_DAYS), Clock(1, TimeUnit.MONTHS),
              Clock(1, TimeUnit.SAME_DAY), Clock(4, TimeUnit.WORKING_HOURS),
              Clock(3, TimeUnit.WORKING_DAYS, CountingRule.SAME_TIME_OF_DAY)]
    for day in (date(2025, 3, 7), date(2025, 3, 8), date(2025, 4, 30), date(2025, 1, 27)):
        for hour, minute in ((0, 5), (7, 0), (9, 30), (12, 0), (15, 0), (16, 59), (17, 0),
                             (23, 59)):
            received = datetime.combine(day, time(hour, minute), cal.tz)
            for clock in clocks:
                assert sim.receipt_due(received, clock) == due_at(
                    cal, received, clock.amount, clock.unit, clock.rule), (received, clock)


async def test_baseline_due_time_is_the_deadline_activity_s(
        pool: asyncpg.Pool, cal: Calendar, data: dict[str, Any]) -> None:
    """For the 48 dossiers of every kind (pauses, extension, still paused...), the what-if's
    baseline due time equals the legal due time of `domain.deadlines.compute`, the function the
    workflow's deadline activity runs, under the same catalog and calendar."""
    procedures = {p: Procedure(code=p, name="Thử", field="Thử", level="province",
                               prescribed_amount=3, prescribed_unit=TimeUnit.WORKING_DAYS,
                               reduced_amount=3, reduced_unit=TimeUnit.WORKING_DAYS,
                               source="UNVERIFIED test") for p in PROCS}
    catalog = Catalog(version="test", procedures=procedures, units={})
    sim = whatif.Simulator(cal, whatif.in_force(catalog), NOW)
    checked = 0
    async with pool.acquire() as conn:
        async for batch in whatif.stream(conn, date(2021, 1, 1), date(2021, 12, 31), cal):
            for d in batch:
                if d.unit_code not in UNITS:
                    continue
                request = DeadlineRequest(
                    procedure_code=d.procedure_code, received_at=d.received_at,
                    pauses=[Pause(start=s, end=e) for s, e in d.pauses],
                    extended_due_at=d.extended_due_at, extended_at=d.extended_at)
                expected = compute(cal, catalog, request).legal_due_at
                assert sim.due(d, sim.clocks[d.procedure_code]) == expected, d.code
                checked += 1
    assert checked == 48


async def test_clock_columns_survive_a_projection_rebuild(
        pool: asyncpg.Pool, data: dict[str, Any]) -> None:
    """Migration 0008's columns are generated from the projector's snapshot: a rebuild from
    the events gives them again, and they hold the pauses and the extension."""
    sql = ("SELECT code, pause_starts, pause_ends, paused_at, extended_at, extended_due_at, "
           "late_by_supplement FROM dossiers WHERE code = ANY($1) ORDER BY code")
    async with pool.acquire() as conn:
        before = [tuple(r) for r in await conn.fetch(sql, list(data))]
        await projector.rebuild(conn)
        after = [tuple(r) for r in await conn.fetch(sql, list(data))]
    assert len(before) == 48 and before == after
    assert any(r[1] for r in before) and any(r[3] for r in before)  # pauses, one in progress
    assert any(r[5] for r in before) and any(r[6] for r in before)  # extension, late flag


def test_a_proposed_calendar_moves_the_due_dates(tmp_path: Path, cal: Calendar) -> None:
    """`--overrides`: a day off declared on the due date (12 March) moves it to the next
    working day, so the dossier finished on day 8 (13 March) is no longer late."""
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("years:\n  2025:\n    days_off:\n      - {date: 2025-03-12, source: "
                         "\"TB thử\"}\n", encoding="utf-8")
    proposed = load_calendar(overrides_path=overrides)
    received = cal.at(RECEIVED_DAY, time(9))
    base = whatif.Simulator(cal, {PROC: SEVEN}, AS_OF)
    sim = whatif.Simulator(proposed, {PROC: SEVEN}, AS_OF)
    compare = whatif.Comparison(base, sim, whatif.WorkdayIndex(cal))
    for i, offset in enumerate(OFFSETS):
        compare.add(whatif.Inputs(
            code=f"c{i}", unit_code=UNIT, procedure_code=PROC, state="returned",
            received_at=received,
            finished_at=cal.at(cal.nth_working_day_after(RECEIVED_DAY, offset), time(10))))
    row = compare.groups[(PROC, UNIT)].as_dict()
    assert row["baseline"]["late"] == 1 and row["simulated"]["late"] == 0
    assert (row["flips_to_on_time"], row["flips_to_late"]) == (1, 0)
