"""Dossier codes: `{unit id}-{YYMMDD}-{daily sequence}` (Decree 61 art. 26;
docs/legal-sources.md §5).

The unit id is either form `domain.catalog.is_unit_code` accepts (the older 000.00.15.H35, or
Decision 20/2020/QĐ-TTg's level-one-leftmost H39.21.05). For nationally centralised services
Circular 04/2025/TT-VPCP (adding clause 3 to Circular 03/2025 art. 13) writes the sequence as
`AAXXXX`: `AA` the two digits of the system owner's id, then the daily sequence of at least
4 digits ("MX1X2.Y1Y2Y3.Z1Z2-YYMMDD-AAXXXX"; copy: tnt305/tai_lieu_noi_bo
src/etl/dataset/1d9563a4e2e1f478.md). Both are digits, so one pattern reads both.
"""

from __future__ import annotations

import re
from datetime import date

_UNIT = r"[0-9A-Z]{1,10}(?:\.[0-9A-Z]{1,10}){0,9}"
CODE_PATTERN = re.compile(rf"^(?P<unit>{_UNIT})-(?P<date>\d{{6}})-(?P<seq>\d{{4,}})$")
UNIT_PATTERN = re.compile(rf"^{_UNIT}$")
SYSTEM_ID = re.compile(r"^\d{2}$")
UNIT_MAX = 35  # Decision 20/2020/QĐ-TTg art. 4(1): at most 35 characters


def format_code(unit_code: str, day: date, sequence: int, system_id: str | None = None) -> str:
    """The printed code, e.g. `000.00.15.H35-240412-0001`; sequence has at least 4 digits.
    With `system_id` (two digits, Circular 04/2025) it is `AAXXXX`, e.g. `...-240412-010001`."""
    if not UNIT_PATTERN.match(unit_code) or len(unit_code) > UNIT_MAX:
        raise ValueError(f"not a unit identifier: {unit_code!r}")
    if sequence < 1:
        raise ValueError("the daily sequence starts at 1")
    if system_id is not None and not SYSTEM_ID.match(system_id):
        raise ValueError(f"system_id must be two digits (Circular 04/2025), got {system_id!r}")
    return f"{unit_code}-{day:%y%m%d}-{system_id or ''}{sequence:04d}"


def register_entry(code: str) -> tuple[str, int]:
    """Form 01's "Vào Sổ theo dõi hồ sơ, Quyển số …, Số thứ tự …" for a dossier code: the book
    is the unit's register of the day (`unit-YYMMDD`), the line its daily number, the same
    number the code carries (`motcua.reports.sla.register` keeps every line, without gaps)."""
    match = CODE_PATTERN.match(code)
    if match is None:
        raise ValueError(f"not a dossier code: {code!r}")
    return f"{match['unit']}-{match['date']}", int(match["seq"])


def is_valid_code(code: str) -> bool:
    """True when `code` has the shape of a dossier code (does not say it exists)."""
    match = CODE_PATTERN.match(code)
    return match is not None and len(match["unit"]) <= UNIT_MAX
