"""`motcua catalog import/activate/export` on a real PostgreSQL (issue 11 point 2)."""

from __future__ import annotations

import asyncio
import csv
import threading
from pathlib import Path

import asyncpg
import pytest

from domain.catalog import TimeUnit
from motcua.catalog import store as catalog_store
from motcua.catalog.io import (
    COLUMNS,
    CatalogFileError,
    diff,
    procedure_from_row,
    read_procedures,
    write_procedures,
)
from motcua.catalog.source import load_catalog
from motcua.cli.catalog import main
from motcua.devstack.postgres import EmbeddedPostgres


@pytest.fixture
def db(postgres: EmbeddedPostgres, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", postgres.dsn)
    return postgres.dsn


def main_in_thread(argv: list[str]) -> int:
    """`main` runs its own event loop: from inside one, run it in a thread."""
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(main(argv)))
    thread.start()
    thread.join()
    return result[0]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def test_fractional_days_hours_and_vietnamese_units() -> None:
    """Published cells as printed: "0,5 ngày làm việc" is 4 working hours at 8 h a day,
    "02 giờ làm việc" 2 hours, "05 ngày làm việc" 5 working days; a reduced time needs its
    decision."""
    base = {"code": "1.004837", "name": "Thủ tục đăng ký giám hộ", "field": "Hộ tịch",
            "level": "xã", "source": "Luật Hộ tịch 2014 art. 20(2)"}
    half = procedure_from_row({**base, "prescribed_amount": "05 ngày làm việc",
                               "reduced_amount": "0,5 ngày làm việc",
                               "reduced_source": "QĐ 3009/QĐ-UBND (Lào Cai)"})
    assert (half.prescribed_amount, half.prescribed_unit) == (5, TimeUnit.WORKING_DAYS)
    assert (half.reduced_amount, half.reduced_unit) == (4, TimeUnit.WORKING_HOURS)
    assert half.level == "commune"
    two = procedure_from_row({**base, "prescribed_amount": "02 giờ làm việc"})
    assert (two.reduced_amount, two.reduced_unit) == (2, TimeUnit.WORKING_HOURS)
    assert procedure_from_row({**base, "prescribed_amount": "0,25 ngày làm việc"},
                              day_hours=8).reduced_amount == 2
    with pytest.raises(ValueError, match="whole number of hours"):
        procedure_from_row({**base, "prescribed_amount": "0,3 ngày làm việc"})
    with pytest.raises(ValueError, match="reduced_source"):
        procedure_from_row({**base, "prescribed_amount": "5 working_days",
                            "reduced_amount": "3", "reduced_unit": "working_days"})


def test_every_bad_row_is_reported(tmp_path: Path) -> None:
    """All bad rows at once, each with its row number and code."""
    path = tmp_path / "bad.csv"
    _write(path, [
        {"code": "1.001193", "name": "A", "field": "Hộ tịch", "level": "commune",
         "prescribed_amount": "1", "prescribed_unit": "same_day", "source": "x"},
        {"code": "1.00119", "name": "B", "field": "Hộ tịch", "level": "commune",
         "prescribed_amount": "1", "prescribed_unit": "same_day", "source": "x"},
        {"code": "1.001194", "name": "C", "field": "", "level": "district",
         "prescribed_amount": "x", "prescribed_unit": "weeks", "source": "x"},
    ])
    with pytest.raises(CatalogFileError) as info:
        read_procedures(path)
    assert len(info.value.errors) == 2
    assert info.value.errors[0].startswith("bad.csv: row 3 (code 1.00119): code '1.00119'")
    assert info.value.errors[1].startswith("bad.csv: row 4 (code 1.001194): field is empty")


def test_export_import_round_trip_csv_and_xlsx(tmp_path: Path) -> None:
    """Export then import gives the same procedures (no diff), in CSV and XLSX."""
    catalog = load_catalog()
    for name in ("catalog.csv", "catalog.xlsx"):
        path = tmp_path / name
        assert write_procedures(path, catalog.procedures.values()) == len(catalog.procedures)
        assert diff(catalog.procedures, read_procedures(path)).empty


def test_import_diff_activate_export(db: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Import stores a version without activating it and shows the diff; activation is its
    own step; export of the active version round-trips; dropping a code is refused."""
    exported = tmp_path / "active.csv"
    assert main(["export", str(exported)]) == 0
    rows = _rows(exported)
    assert len(rows) == len(load_catalog().procedures)

    changed = [dict(r) for r in rows]
    for row in changed:
        if row["code"] == "2.001035":
            row.update(reduced_amount="1", reduced_unit="working_days",
                       reduced_source="QĐ 9999/QĐ-UBND (test decision)")
    edited = tmp_path / "edited.csv"
    _write(edited, changed)
    capsys.readouterr()
    assert main(["import", str(edited), "--by", "tester"]) == 0
    out = capsys.readouterr().out
    assert "~ 2.001035 reduced_amount: 2 -> 1" in out
    assert "activate it with: motcua catalog activate " in out
    version = out.strip().splitlines()[-1].rsplit(" ", 1)[1]

    original: list[str] = []

    async def check() -> None:
        conn = await asyncpg.connect(db)
        try:
            active = await catalog_store.active_version(conn)
            assert active is not None and active != version  # import alone: not active
            original.append(active)
            assert main_in_thread(["activate", version, "--by", "tester"]) == 0
            assert await catalog_store.active_version(conn) == version
            stored = await catalog_store.load(conn, version)
            assert stored.procedure("2.001035").reduced_amount == 1
            assert stored.procedure("L.chung-thuc.di-chuc").is_retired  # still resolvable
        finally:
            await conn.close()

    asyncio.run(check())

    again = tmp_path / "again.csv"
    assert main(["export", str(again)]) == 0
    assert diff(read_procedures(edited), read_procedures(again)).empty

    dropped = tmp_path / "dropped.csv"
    _write(dropped, [r for r in changed if r["code"] != "2.000927"])
    assert main(["import", str(dropped)]) == 2
    assert "drops code(s) 2.000927" in capsys.readouterr().err
    assert main(["activate", "nope"]) == 2
    # Leave the session's database as it was for the tests that follow.
    assert main(["activate", original[0], "--by", "tester"]) == 0


def test_digitisation_flag_travels_through_import_export_and_store(tmp_path: Path) -> None:
    """`digitise_before_assign` (issue 26): read from yes/no/có/không, written back as
    `yes`, kept by a CSV and an XLSX round trip and by the stored form (`row_of`), refused
    when it is neither; a catalog without the flag keeps its version."""
    import dataclasses

    from motcua.catalog.io import row_of
    from motcua.catalog.source import catalog_of

    base = {"code": "1.004222", "name": "Đăng ký thường trú", "field": "Cư trú",
            "level": "xã", "prescribed_amount": "07 ngày làm việc", "source": "Luật Cư trú"}
    assert procedure_from_row({**base, "digitise_before_assign": "Có"}).digitise_before_assign
    assert not procedure_from_row({**base, "digitise_before_assign": "không"}
                                  ).digitise_before_assign
    assert not procedure_from_row(base).digitise_before_assign
    with pytest.raises(ValueError, match="digitise_before_assign must be yes or no"):
        procedure_from_row({**base, "digitise_before_assign": "maybe"})
    shipped = load_catalog()
    flagged = dataclasses.replace(shipped.procedure("1.004222"), digitise_before_assign=True)
    procedures = {**shipped.procedures, "1.004222": flagged}
    assert row_of(flagged)["digitise_before_assign"] == "yes"
    assert procedure_from_row(row_of(flagged)).digitise_before_assign
    for name in ("flag.csv", "flag.xlsx"):
        path = tmp_path / name
        write_procedures(path, procedures.values())
        back = read_procedures(path)
        assert back["1.004222"].digitise_before_assign
        assert not back["1.001193"].digitise_before_assign
        assert diff(procedures, back).empty
    changed = diff(shipped.procedures, procedures).changed["1.004222"]
    assert changed == ["digitise_before_assign: False -> True"]
    assert catalog_of(dict(shipped.procedures), dict(shipped.units)).version == shipped.version
    assert catalog_of(procedures, dict(shipped.units)).version != shipped.version
