"""`motcua deadline` prints exactly the due instant, or one error line with status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from motcua.cli.deadline import main

ROOT = Path(__file__).resolve().parents[1]


def test_prints_only_the_due_instant(capsys: pytest.CaptureFixture[str]) -> None:
    """Three working days from the Friday before Tết 2025 end on Wed 5 Feb at 17:00."""
    assert main(["--received", "2025-01-24T10:00:00+07:00", "--days", "3"]) == 0
    out, err = capsys.readouterr()
    assert out == "2025-02-05T17:00:00+07:00\n"
    assert err == ""


@pytest.mark.parametrize(("argv", "expected"), [
    (["--received", "2025-01-24T10:00", "--days", "3"], "2025-02-05T17:00:00+07:00"),
    (["--received", "2025-01-24T03:00Z", "--days", "3"], "2025-02-05T17:00:00+07:00"),
    (["--received", "2025-04-29T15:30+07:00", "--days", "1", "--unit", "same_day"],
     "2025-05-05T17:00:00+07:00"),
    (["--received", "2025-03-03T16:00+07:00", "--days", "3", "--unit", "working_hours"],
     "2025-03-04T09:30:00+07:00"),
    (["--received", "2025-01-20T10:00+07:00", "--days", "10", "--unit", "calendar_days"],
     "2025-02-03T17:00:00+07:00"),
    (["--received", "2025-01-23T10:15+07:00", "--days", "2", "--rule", "same_time_of_day"],
     "2025-02-03T10:15:00+07:00"),
])
def test_units_rules_and_naive_times(capsys: pytest.CaptureFixture[str], argv: list[str],
                                     expected: str) -> None:
    """Units and rules are honoured, and a time without offset is read as Hà Nội time."""
    assert main(argv) == 0
    assert capsys.readouterr().out == expected + "\n"


@pytest.mark.parametrize(("argv", "fragment"), [
    (["--received", "yesterday", "--days", "3"], "not an ISO 8601 date-time"),
    (["--received", "2025-01-24T10:00", "--days", "0"], "N must be >= 1"),
    (["--received", "2025-01-24T10:00", "--days", "three"], "N must be a whole number"),
    (["--received", "2025-01-24T10:00", "--days", "3", "--unit", "weeks"], "invalid choice"),
    (["--received", "2025-01-24T10:00", "--days", "2", "--unit", "same_day"], "same_day"),
    (["--received", "2040-01-24T10:00", "--days", "3"], "outside the calendar's years"),
    (["--days", "3"], "required: --received"),
])
def test_bad_input_gives_one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str],
                                        fragment: str) -> None:
    """Bad dates, units or N give exit status 2 and a single line on stderr only."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("motcua deadline: error: ")
    assert fragment in err


def test_bad_overrides_file_is_reported(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed overrides file is a one-line error naming the bad entry."""
    bad = tmp_path / "overrides.yaml"
    bad.write_text("years:\n  2026:\n    days_off:\n      - date: 2026-02-30\n", encoding="utf-8")
    assert main(["--received", "2026-01-05T10:00", "--days", "1",
                 "--overrides", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "overrides.yaml: 2026.days_off entry 1" in err
    assert err.count("\n") == 1


def test_overrides_change_the_due_time(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """An operator day off is skipped by the count."""
    extra = tmp_path / "overrides.yaml"
    extra.write_text('years:\n  2025:\n    days_off:\n      - {date: 2025-03-04, source: "test"}\n',
                     encoding="utf-8")
    assert main(["--received", "2025-03-03T10:00+07:00", "--days", "1",
                 "--overrides", str(extra)]) == 0
    assert capsys.readouterr().out == "2025-03-05T17:00:00+07:00\n"


def test_runs_as_a_module() -> None:
    """`python -m motcua.cli.deadline` prints exactly one line and exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", "motcua.cli.deadline", "--received", "2025-04-25T10:00+07:00",
         "--days", "1"], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "2025-04-26T17:00:00+07:00\n"
    assert result.stdout.count("\n") == 1


@pytest.mark.parametrize(("argv", "expected"), [
    # Issue 11's examples: day one is the first working day after the date of receipt.
    (["--received", "2026-11-28T09:00", "--days", "3"], "2026-12-02T17:00:00+07:00"),
    (["--received", "2025-04-27T10:00", "--days", "2"], "2025-04-29T17:00:00+07:00"),
    # After hours, on a holiday eve, at night in 2024 and 2027.
    (["--received", "2025-04-29T22:30", "--days", "1"], "2025-05-05T17:00:00+07:00"),
    (["--received", "2024-12-31T23:59", "--days", "1"], "2025-01-02T17:00:00+07:00"),
    (["--received", "2027-03-05T03:00", "--days", "1"], "2027-03-08T17:00:00+07:00"),
    # Same day: 15:00:00 exactly is still the same day.
    (["--received", "2025-03-03T15:00:00", "--days", "1", "--unit", "same_day"],
     "2025-03-03T17:00:00+07:00"),
])
def test_day_one_rule_at_any_hour(argv: list[str], expected: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The legal instant for receipts at night, on weekends and on holiday eves."""
    assert main(argv) == 0
    assert capsys.readouterr().out == expected + "\n"


def test_explain_names_the_rule_and_its_text(capsys: pytest.CaptureFixture[str]) -> None:
    """--explain adds one line with the rule's name and the articles it follows."""
    assert main(["--received", "2026-11-28T09:00", "--days", "3", "--explain"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "2026-12-02T17:00:00+07:00"
    assert out[1].startswith("civil_code/working_days@v3: Bộ luật Dân sự 2015 Điều 147 khoản 2")
