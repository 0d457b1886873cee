"""Dossier codes: `{unit id}-{YYMMDD}-{daily sequence}` (Decree 61 art. 26; DOMAIN.md 1.5)."""

from __future__ import annotations

import re
from datetime import date

_UNIT = r"[0-9A-Z]{1,5}(?:\.[0-9A-Z]{1,5}){1,5}"
CODE_PATTERN = re.compile(rf"^(?P<unit>{_UNIT})-(?P<date>\d{{6}})-(?P<seq>\d{{4,}})$")
UNIT_PATTERN = re.compile(rf"^{_UNIT}$")


def format_code(unit_code: str, day: date, sequence: int) -> str:
    """The printed code, e.g. `000.00.15.H35-240412-0001`; sequence has at least 4 digits."""
    if not UNIT_PATTERN.match(unit_code):
        raise ValueError(f"not a unit identifier: {unit_code!r}")
    if sequence < 1:
        raise ValueError("the daily sequence starts at 1")
    return f"{unit_code}-{day:%y%m%d}-{sequence:04d}"


def is_valid_code(code: str) -> bool:
    """True when `code` has the shape of a dossier code (does not say it exists)."""
    return CODE_PATTERN.match(code) is not None
