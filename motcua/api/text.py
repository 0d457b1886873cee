"""Incoming text: normalised to NFC, free of control characters and lone surrogates.

Vietnamese arrives in any Unicode normalisation (precomposed from most keyboards, decomposed
from some macOS and PDF sources): "Nguyễn" must compare, search and store the same way. Every
string the API accepts passes through these types, in bodies and query parameters alike.
A NUL or a lone surrogate cannot be stored in PostgreSQL text or jsonb, so they are refused
here (422 naming the field) rather than failing deep in the engine.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints

# C0 controls except tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Instants the API accepts: anything else is a typo, and far years overflow time zone maths.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def nfc(value: Any) -> Any:
    """`value` in NFC when it is a string (recursively inside lists and dicts)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [nfc(v) for v in value]
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    return value


def clean(value: str) -> str:
    """Refuse text PostgreSQL cannot store or a clerk cannot see."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def not_blank(value: str) -> str:
    """Refuse text that is empty once whitespace is stripped."""
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def in_range(value: datetime) -> datetime:
    """Refuse instants outside 2000-2100 (typos, and overflow near year 9999)."""
    if not EARLIEST <= value < LATEST:
        raise ValueError("must be between 2000-01-01 and 2100-01-01")
    return value


# The same rules for clients and fuzzers, as JSON Schema patterns (documentation only: the
# validators above enforce them). Visible text: no control characters; "required" text also
# holds at least one character that is not whitespace.
_ALLOWED = "[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]"
_VISIBLE = "[^\\s\\u0000-\\u001f\\u007f-\\u009f]"
_TEXT_SCHEMA = Field(json_schema_extra={"pattern": f"^{_ALLOWED}*$"})
_REQUIRED_SCHEMA = Field(json_schema_extra={"pattern": f"^{_ALLOWED}*{_VISIBLE}{_ALLOWED}*$"})

_NFC = BeforeValidator(nfc)
_CLEAN = AfterValidator(clean)
_NOT_BLANK = AfterValidator(not_blank)

Text = Annotated[str, _NFC, _CLEAN, _TEXT_SCHEMA]
Instant = Annotated[AwareDatetime, AfterValidator(in_range)]
# Non-blank text of bounded length (after NFC).
Name = Annotated[str, _NFC, StringConstraints(min_length=1, max_length=200), _CLEAN, _NOT_BLANK,
                 _REQUIRED_SCHEMA]
Code = Annotated[str, _NFC, StringConstraints(min_length=1, max_length=64), _CLEAN, _NOT_BLANK,
                 _REQUIRED_SCHEMA]
Reason = Annotated[str, _NFC, StringConstraints(min_length=1, max_length=2000), _CLEAN,
                   _NOT_BLANK, _REQUIRED_SCHEMA]
Document = Annotated[str, _NFC, StringConstraints(min_length=1, max_length=300), _CLEAN,
                     _NOT_BLANK, _REQUIRED_SCHEMA]
# Optional free text of bounded length.
Note = Annotated[str, _NFC, StringConstraints(max_length=2000), _CLEAN, _TEXT_SCHEMA]
Short = Annotated[str, _NFC, StringConstraints(max_length=300), _CLEAN, _TEXT_SCHEMA]
