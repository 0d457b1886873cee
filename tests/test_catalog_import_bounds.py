"""Issue 24, point 6: `motcua catalog import` reads hostile files in bounded time and memory
and refuses them with one line; catalog texts follow the API's text rules."""

from __future__ import annotations

import csv
import re
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from motcua.catalog.io import COLUMNS, CatalogFileError, read_procedures
from motcua.devstack.postgres import EmbeddedPostgres

GOOD = {"code": "1.001193", "name": "Đăng ký khai sinh", "field": "Hộ tịch",
        "level": "commune", "prescribed_amount": "1", "prescribed_unit": "same_day",
        "source": "Luật Hộ tịch 2014 art. 16(1)"}
MEMORY_LIMIT = 1 << 30  # the refusal must come long before; old code died of memory here
PEAK_RSS_LIMIT_KB = 250 * 1024


def _bomb(path: Path, *, dimension: str | None) -> Path:
    """An XLSX whose only data is one cell at XFD1048576 (the last cell a sheet can have),
    with `dimension` as the declared size (None: no <dimension>, so nothing declares it)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet["XFD1048576"] = "x"
    book.save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    xml = re.sub(r"<dimension [^>]*/>", "" if dimension is None
                 else f'<dimension ref="{dimension}"/>', xml)
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def _import(path: Path, dsn: str) -> tuple[int, str, float, int]:
    """Run `motcua catalog import` on the database `dsn` in a child with at most 1 GiB of
    address space: (exit code, stderr, seconds the import took, the child's peak RSS in KiB).
    The limit turns the old unbounded read into a quick MemoryError instead of a machine that
    swaps for minutes."""
    # The import alone is timed, not the interpreter's start (slow on a busy machine). The peak
    # is the child's own VmHWM: getrusage's ru_maxrss survives exec, so it would report the
    # (large) pytest process that forked the child.
    probe = ("import resource, sys, time\n"
             "from motcua.cli import main\n"
             "import motcua.cli.catalog, openpyxl\n"
             "started = time.monotonic()\n"
             "code = main(['catalog', 'import', sys.argv[1]])\n"
             "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
             "print(time.monotonic() - started, int(hwm[0].split()[1]))\n"
             "sys.exit(code)\n")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    done = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True,
                          text=True, timeout=120, preexec_fn=limit,
                          env={"PATH": "/usr/bin:/bin", "DATABASE_URL": dsn})
    measured = done.stdout.split()
    elapsed, peak = (float(measured[0]), int(measured[1])) if len(measured) == 2 else (-1, -1)
    return done.returncode, done.stderr, elapsed, peak


@pytest.mark.engine
@pytest.mark.parametrize("dimension", ["A1:XFD1048576", None])
def test_xlsx_bomb_is_refused_fast_with_bounded_memory(tmp_path: Path, dimension: str | None,
                                                       postgres: EmbeddedPostgres) -> None:
    """One cell at XFD1048576 (a file of a few KB), declared or not: refused in one line, in
    under 5 s, the process never above 250 MB."""
    path = _bomb(tmp_path / "bomb.xlsx", dimension=dimension)
    assert path.stat().st_size < 20_000
    code, stderr, elapsed, peak = _import(path, postgres.dsn)
    assert code == 2, stderr[-2000:]
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("motcua catalog: error: bomb.xlsx: ")
    assert 0 <= elapsed < 5.0, elapsed
    assert 0 < peak < PEAK_RSS_LIMIT_KB, peak


@pytest.mark.engine
def test_xlsx_that_is_not_a_zip_is_one_line(tmp_path: Path,
                                            postgres: EmbeddedPostgres) -> None:
    """A `.xlsx` holding anything else (here CSV text) is one line, no traceback."""
    path = tmp_path / "catalog.xlsx"
    path.write_text("code,name\n1.001193,x\n")
    code, stderr, _, _ = _import(path, postgres.dsn)
    assert code == 2 and "Traceback" not in stderr
    assert stderr.strip() == ("motcua catalog: error: catalog.xlsx: not an XLSX workbook "
                              "(not a zip archive)")
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    code, stderr, _, _ = _import(broken, postgres.dsn)
    assert code == 2 and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1


def _xlsx(path: Path, rows: list[dict[str, str]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    for row in rows:
        sheet.append([row.get(c, "") for c in COLUMNS])
    book.save(path)
    return path


def test_catalog_texts_follow_the_api_rules(tmp_path: Path) -> None:
    """A bidi override, a formula-looking name and an over-long name are refused, each named
    with its row and column; nothing of such a file becomes a catalog version."""
    rows = [{**GOOD, "code": "1.001193", "name": "Khai\u202esinh"},
            {**GOOD, "code": "1.001194", "name": "=1+1"},
            {**GOOD, "code": "1.001195", "field": "@SUM(A1)"},
            {**GOOD, "code": "1.001196", "name": "x" * 1_500},
            {**GOOD, "code": "1.001197"}]
    csv_path = tmp_path / "c.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    for path in (_xlsx(tmp_path / "c.xlsx", rows), csv_path):
        with pytest.raises(CatalogFileError) as info:
            read_procedures(path)
        errors = info.value.errors
        assert len(errors) == 4, errors
        name = path.name
        assert errors[0].startswith(f"{name}: row 2 (code 1.001193): name: must not contain")
        assert errors[1].startswith(f"{name}: row 3 (code 1.001194): name: must not start")
        assert errors[2].startswith(f"{name}: row 4 (code 1.001195): field: must not start")
        assert errors[3].startswith(f"{name}: row 5 (code 1.001196): name: longer than 1000")


def test_huge_cells_and_rows_are_refused(tmp_path: Path) -> None:
    """A 100,000-character cell, and more rows than a catalog has, are one-line refusals."""
    with pytest.raises(CatalogFileError, match="row 2: a cell longer than 2000"):
        read_procedures(_xlsx(tmp_path / "long.xlsx", [{**GOOD, "name": "x" * 100_000}]))
    many = tmp_path / "many.csv"
    many.write_text(",".join(COLUMNS) + "\n" + "".join(
        f"1.{n:06d},a,b,commune,1,same_day,,,,s,,,,,,\n" for n in range(10_001)))
    with pytest.raises(CatalogFileError, match="more than 10000 rows"):
        read_procedures(many)
