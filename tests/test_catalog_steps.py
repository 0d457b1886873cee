"""Internal procedures in the catalog (issue 22 item 1): the shipped step lists, the steps
sheet/file of `motcua catalog import/export`, and the checks that refuse a bad list."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import openpyxl
import pytest

from domain.catalog import (
    Allowance,
    InternalProcedure,
    Procedure,
    Step,
    StepRole,
    TimeUnit,
)
from motcua.api.routes.catalog import _procedure
from motcua.catalog.io import (
    COLUMNS,
    CatalogFileError,
    diff,
    read_procedures,
    row_of,
    write_procedures,
)
from motcua.catalog.source import CatalogError, catalog_of, load_catalog
from motcua.catalog.steps_io import STEP_COLUMNS, steps_path_for, stored_steps
from motcua.catalog.store import _build, _unit_row
from motcua.cli.catalog import main
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.whatif.catalogs import write_catalog

# (code, decision, steps, hours in total, allowances in hours as published (None: untimed))
SHIPPED = [
    ("3.000527.H61", "2682/QĐ-UBND", 24, [2, 2, 8, 8, 2, 2]),
    ("1.004944", "2022/QĐ-UBND", 40, [4, 4, 16, 4, 8, 4, None]),
    ("1.014464", "2904/QĐ-UBND", 24, [None, 2, 2, 4, 4, 12, None]),
    ("2.002755", "3854/QĐ-UBND", 96, [4, 4, 20, 4, 4, 4, 4, 4, 12, 16, 8, 4, 4, 4, None]),
]


@pytest.mark.parametrize(("code", "decision", "total", "allowances"), SHIPPED,
                         ids=[s[0] for s in SHIPPED])
def test_shipped_steps_add_up_to_the_applied_time(code: str, decision: str, total: int,
                                                  allowances: list[int | None]) -> None:
    """Each shipped list has the decision's steps and allowances (checked against the copy,
    docs/legal-sources.md) and adds up to the applied time, the decision's published total."""
    proc = load_catalog().procedure(code)
    assert proc.steps is not None and decision in proc.steps.version
    assert decision in proc.reduced_source
    got = [None if s.allowance is None else s.allowance.hours(proc.steps.day_hours)
           for s in proc.steps.steps]
    assert got == allowances
    assert proc.steps.total_hours() == total == proc.steps.applied_hours(
        proc.reduced_amount, proc.reduced_unit)
    assert proc.reduced_unit == TimeUnit.WORKING_DAYS and proc.reduced_amount * 8 == total
    assert all(decision in s.source and s.source.endswith(str(i)) for i, s in
               enumerate(proc.steps.steps, start=1)), "each step cites its step number"
    assert all(s.untimed for s in proc.steps.steps if s.allowance is None)


def test_shipped_liaison_steps_name_a_catalog_unit() -> None:
    """Nghệ An 3854: steps 1-6 are the commune's share (40 h), 7-15 Sở Nội vụ's (56 h)."""
    catalog = load_catalog()
    steps = catalog.procedure("2.002755").steps
    assert steps is not None
    units = [s.unit_code for s in steps.steps]
    assert units[:6] == [""] * 6 and set(units[6:]) == {"000.00.30.H40"}
    assert catalog.unit("000.00.30.H40").name == "Sở Nội vụ tỉnh Nghệ An"
    assert sum(s.allowance.hours(8) for s in steps.steps[:6] if s.allowance) == 40
    assert [s.role for s in steps.steps[12:14]] == [StepRole.LEADER, StepRole.RECORDS_CLERK]


def test_procedures_without_steps_keep_the_old_shape_and_version() -> None:
    """A procedure without steps has none; the catalog version changes with the steps."""
    catalog = load_catalog()
    assert catalog.procedure("1.001193").steps is None
    procs = dict(catalog.procedures)
    proc = procs["3.000527.H61"]
    assert proc.steps is not None
    renamed = dataclasses.replace(proc.steps, steps=(
        dataclasses.replace(proc.steps.steps[0], name="Tiếp nhận"), *proc.steps.steps[1:]))
    changed = catalog_of({**procs, proc.code: dataclasses.replace(proc, steps=renamed)},
                         dict(catalog.units))
    dropped = catalog_of({**procs, proc.code: dataclasses.replace(proc, steps=None)},
                         dict(catalog.units))
    assert len({catalog.version, changed.version, dropped.version}) == 3
    assert catalog_of(procs, dict(catalog.units)).version == catalog.version


def _procedure_row(code: str = "1.004837", amount: str = "3") -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(code=code, name="Thủ tục đăng ký giám hộ", field="Hộ tịch", level="xã",
               prescribed_amount=amount, prescribed_unit="ngày làm việc",
               source="Luật Hộ tịch 2014 art. 20(2)")
    return row


def _step_row(number: int, allowance: str, **extra: str) -> dict[str, str]:
    row = dict.fromkeys(STEP_COLUMNS, "")
    row.update(code="1.004837", step=str(number), name=f"Bước {number}", role="officer",
               actor="Công chức", allowance_amount=allowance,
               source=f"QĐ test, Bước {number}", version="QĐ test")
    row.update(extra)
    return row


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_import_refuses_steps_that_do_not_add_up(tmp_path: Path) -> None:
    """Steps of 2,75 days for a 3-day procedure: refused, naming the procedure's row and the
    step rows; a right list is read with 0,25 / 0,5 ngày as 2 / 4 hours."""
    main = _write_csv(tmp_path / "list.csv", COLUMNS, [_procedure_row()])
    short = [_step_row(1, "0,25 ngày làm việc"), _step_row(2, "0,5 ngày làm việc"),
             _step_row(3, "02 ngày làm việc"), _step_row(4, "", untimed="Không tính thời gian")]
    steps = _write_csv(tmp_path / "steps.csv", STEP_COLUMNS, short)
    with pytest.raises(CatalogFileError) as err:
        read_procedures(main, steps_path=steps)
    (message,) = err.value.errors
    assert "list.csv: row 2 (code 1.004837)" in message
    assert "steps.csv: rows 2-5 (code 1.004837)" in message
    assert "22 working hours" in message and "3 working_days = 24" in message

    short[0]["allowance_amount"] = "0,5 ngày làm việc"
    _write_csv(steps, STEP_COLUMNS, short)
    proc = read_procedures(main, steps_path=steps)["1.004837"]
    assert proc.steps is not None
    assert [s.allowance for s in proc.steps.steps] == [
        Allowance(amount=4, unit=TimeUnit.WORKING_HOURS),
        Allowance(amount=4, unit=TimeUnit.WORKING_HOURS),
        Allowance(amount=2, unit=TimeUnit.WORKING_DAYS), None]
    assert proc.steps.steps[3].untimed == "Không tính thời gian"


@pytest.mark.parametrize(("change", "message"), [
    ({"role": "boss"}, "row 3 (code 1.004837): role must be one of clerk"),
    ({"step": "3"}, "row 3 (code 1.004837): step must be 2"),
    ({"allowance_amount": "1 tháng"}, "row 3 (code 1.004837): a step's allowance is in "),
    ({"allowance_amount": "0,3 ngày làm việc"}, "row 3 (code 1.004837): allowance_amount: 0,3"),
    ({"allowance_amount": ""}, "row 3 (code 1.004837): step 'Bước 2': give either an"),
    ({"unit_code": "000.99.99.H99"}, "names unit '000.99.99.H99', which the catalog"),
    ({"code": "9.999999", "step": "1"}, "rows 3-3 (code 9.999999): no procedure with this"),
])
def test_bad_step_rows_are_named(tmp_path: Path, change: dict[str, str], message: str) -> None:
    """Every bad step row is refused with its row and code."""
    main = _write_csv(tmp_path / "list.csv", COLUMNS, [_procedure_row()])
    rows = [_step_row(1, "1 ngày làm việc"), _step_row(2, "2 ngày làm việc", **change)]
    steps = _write_csv(tmp_path / "steps.csv", STEP_COLUMNS, rows)
    try:
        procedures = read_procedures(main, steps_path=steps)
        catalog_of(procedures, dict(load_catalog().units))
    except CatalogFileError as err:
        assert any(message in e for e in err.errors), err.errors
    except ValueError as err:  # a unit the catalog lacks: refused when the catalog is built
        assert message in str(err)
    else:
        pytest.fail("accepted")


def test_fractions_need_whole_hours_at_the_working_day_length(tmp_path: Path) -> None:
    """At 6 hours a day, 0,25 ngày is 1.5 h: refused; at 8, 2 h."""
    main = _write_csv(tmp_path / "list.csv", COLUMNS, [_procedure_row(amount="1")])
    steps = _write_csv(tmp_path / "list.steps.csv", STEP_COLUMNS, [
        _step_row(1, "0,25 ngày làm việc"), _step_row(2, "0,75 ngày làm việc")])
    assert steps == steps_path_for(main)  # found beside the list without --steps
    with pytest.raises(CatalogFileError, match="not a whole number of hours at 6 h"):
        read_procedures(main, day_hours=6)
    assert read_procedures(main)["1.004837"].steps is not None


def test_steps_cannot_divide_calendar_days_or_months(tmp_path: Path) -> None:
    """Calendar periods include days off: a step list for one is refused (our reading)."""
    step = Step(name="x", role=StepRole.OFFICER, actor="y", source="z",
                allowance=Allowance(amount=10, unit=TimeUnit.WORKING_DAYS))
    for unit in (TimeUnit.CALENDAR_DAYS, TimeUnit.MONTHS):
        with pytest.raises(ValueError, match="cannot divide a time counted in"):
            Procedure(code="1.000001", name="n", level="commune", prescribed_amount=10,
                      prescribed_unit=unit, reduced_amount=10, reduced_unit=unit, source="s",
                      steps=InternalProcedure(version="v", steps=(step,)))
    same_day = Procedure(code="1.000001", name="n", level="commune", prescribed_amount=1,
                         prescribed_unit=TimeUnit.SAME_DAY, reduced_amount=1,
                         reduced_unit=TimeUnit.SAME_DAY, source="s",
                         steps=InternalProcedure(version="v", steps=tuple(
                             dataclasses.replace(step, allowance=Allowance(
                                 amount=h, unit=TimeUnit.WORKING_HOURS)) for h in (2, 3, 2, 1))))
    assert same_day.steps is not None and same_day.steps.total_hours() == 8


def test_yaml_steps_are_checked(tmp_path: Path) -> None:
    """A YAML step list that does not add up stops the load, naming the row and code."""
    path = tmp_path / "procedures.yaml"
    path.write_text("""procedures:
  - code: "1.004837"
    name: "Thủ tục đăng ký giám hộ"
    level: commune
    prescribed_amount: 3
    prescribed_unit: working_days
    source: "Luật Hộ tịch 2014 art. 20(2)"
    steps_version: "QĐ test"
    steps:
      - {name: "a", role: clerk, actor: "b", allowance: "0,5 ngày làm việc", source: "c"}
""", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"row 1 \(code 1.004837\): the steps add up to 4"):
        load_catalog(procedures_path=path)


@pytest.mark.parametrize("name", ["catalog.csv", "catalog.xlsx"])
def test_export_import_round_trip_keeps_the_steps(tmp_path: Path, name: str) -> None:
    """Export then import gives the same procedures and steps: a second file for CSV, a
    second sheet for XLSX; the stored form (a catalog version in PostgreSQL) too."""
    catalog = load_catalog()
    path = tmp_path / name
    write_procedures(path, catalog.procedures.values())
    if name.endswith(".csv"):
        assert steps_path_for(path).exists()
    else:
        assert openpyxl.load_workbook(path).sheetnames == ["catalog", "steps"]
    back = read_procedures(path)
    assert diff(catalog.procedures, back).empty
    assert back["2.002755"].steps == catalog.procedure("2.002755").steps
    stored = _build([{**row_of(p), **stored_steps(p)} for p in catalog.procedures.values()],
                    [_unit_row(u) for u in catalog.units.values()])
    assert stored.version == catalog.version
    assert stored.procedure("1.014464").steps == catalog.procedure("1.014464").steps


def test_diff_names_a_change_of_steps() -> None:
    """The import's diff shows a step list change in one line."""
    catalog = load_catalog()
    proc = catalog.procedure("1.004944")
    without = {**catalog.procedures, proc.code: dataclasses.replace(proc, steps=None)}
    lines = diff(catalog.procedures, without).lines()
    assert lines == ["~ 1.004944 steps: 7 steps, 40 h (QĐ 2022/QĐ-UBND ngày 27/11/2025 (Cao "
                     "Bằng), Phụ lục 2 quy trình số 14 điểm a) -> none"]


def test_the_procedure_view_carries_the_steps() -> None:
    """GET /v1/procedures(/{code}) shows `steps` with name, allowance and source (the view)."""
    view = _procedure(load_catalog().procedure("1.014464")).model_dump()
    first, second = view["steps"][0], view["steps"][1]
    assert first["allowance"] is None and first["untimed"] == "Giờ hành chính"
    assert second["allowance"] == {"amount": 2, "unit": "working_hours"}
    assert all(s["name"] and s["source"] for s in view["steps"])
    assert _procedure(load_catalog().procedure("1.001193")).steps is None


def test_cli_import_and_export_carry_the_steps(postgres: EmbeddedPostgres, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """`motcua catalog export --steps FILE` writes the steps file; `import --steps FILE` with
    steps that do not add up exits 2, naming the rows, and stores nothing."""
    monkeypatch.setenv("DATABASE_URL", postgres.dsn)
    exported, steps = tmp_path / "active.csv", tmp_path / "active-steps.csv"
    assert main(["export", str(exported), "--steps", str(steps)]) == 0
    assert f"to {steps}" in capsys.readouterr().out
    with steps.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["code"] for r in rows} >= {"3.000527.H61", "2.002755"}
    assert diff(load_catalog().procedures, read_procedures(exported, steps_path=steps)).empty

    for row in rows:
        if row["code"] == "3.000527.H61" and row["step"] == "3":
            row["allowance_amount"] = "2"  # 01 -> 02 ngày làm việc: 4 days in all
    _write_csv(steps, STEP_COLUMNS, rows)
    assert main(["import", str(exported), "--steps", str(steps)]) == 2
    err = capsys.readouterr().err
    assert "(code 3.000527.H61)" in err and "active-steps.csv: rows" in err
    assert "the steps add up to 32 working hours" in err


def test_a_recommended_cut_drops_the_steps_it_no_longer_fits(tmp_path: Path) -> None:
    """The what-if's recommendation file cuts the time of a procedure with steps: the old
    steps add up to the old time, so the proposal carries none (and does not crash)."""
    path = tmp_path / "proposal.csv"
    assert write_catalog(path, load_catalog(), {"3.000527.H61": 2}, "QĐ test") == 1
    proc = read_procedures(path)["3.000527.H61"]
    assert proc.reduced_amount == 2 and proc.steps is None
    assert not steps_path_for(path).exists()
