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
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, StringConstraints

# C0 controls except tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Invisible and bidirectional format characters: zero-width space/joiners and direction marks,
# bidi embeddings/overrides, bidi isolates, and the BOM. Vietnamese never needs them; in a name
# or a code they make two different strings look the same, or reorder what a clerk reads.
_FORMAT = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# Bidi embeddings, overrides and isolates reorder the text around them even in a long note.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_NEWLINE = re.compile("[\t\r\n\u2028\u2029\x85]")
# Instants the API accepts: anything else is a typo, and far years overflow time zone maths.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# Office dates the API accepts (report periods): the same years, both ends inclusive.
FIRST_DAY, LAST_DAY = EARLIEST.date(), LATEST.date() - timedelta(days=1)


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


def no_reordering(value: str) -> str:
    """Refuse bidi embeddings, overrides and isolates (they reorder what a reader sees)."""
    if _BIDI.search(value):
        raise ValueError("must not contain bidirectional control characters")
    return value


def single_line(value: str) -> str:
    """Refuse line breaks and invisible or bidirectional format characters."""
    if _NEWLINE.search(value):
        raise ValueError("must be a single line (no line breaks or tabs)")
    if _FORMAT.search(value):
        raise ValueError("must not contain invisible or bidirectional format characters "
                         "(U+200B-U+200F, U+202A-U+202E, U+2066-U+2069, U+FEFF)")
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
_ALLOWED = ("[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
            "\\u202a-\\u202e\\u2066-\\u2069]")
_ONE_LINE = ("[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u200b-\\u200f"
             "\\u202a-\\u202e\\u2066-\\u2069\\ufeff]")
_VISIBLE = ("[^\\s\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u202a-\\u202e"
            "\\u2066-\\u2069\\ufeff]")
_TEXT_SCHEMA = Field(json_schema_extra={"pattern": f"^{_ALLOWED}*$"})
_LINE_SCHEMA = Field(json_schema_extra={"pattern": f"^{_ONE_LINE}*$"})
_REQUIRED_SCHEMA = Field(json_schema_extra={"pattern": f"^{_ALLOWED}*{_VISIBLE}{_ALLOWED}*$"})
_REQUIRED_LINE_SCHEMA = Field(
    json_schema_extra={"pattern": f"^{_ONE_LINE}*{_VISIBLE}{_ONE_LINE}*$"})

_NFC = BeforeValidator(nfc)
_CLEAN = AfterValidator(clean)
_NOT_BLANK = AfterValidator(not_blank)
_LINE = AfterValidator(single_line)
_NO_REORDER = AfterValidator(no_reordering)

Text = Annotated[str, _NFC, _CLEAN, _LINE, _LINE_SCHEMA]
Instant = Annotated[AwareDatetime, AfterValidator(in_range)]
# Non-blank single-line text of bounded length (after NFC): names, codes, document titles.
Name = Annotated[str, _NFC, StringConstraints(min_length=1, max_length=200), _CLEAN, _LINE,
                 _NOT_BLANK, _REQUIRED_LINE_SCHEMA]
Code = Annotated[str, _NFC, StringConstraints(min_length=1, max_length=64), _CLEAN, _LINE,
                 _NOT_BLANK, _REQUIRED_LINE_SCHEMA]
Document = Annotated[str, _NFC, StringConstraints(min_length=1, max_length=300), _CLEAN, _LINE,
                     _NOT_BLANK, _REQUIRED_LINE_SCHEMA]
# Multi-line text (line breaks allowed, bidi controls not).
Reason = Annotated[str, _NFC, StringConstraints(min_length=1, max_length=2000), _CLEAN,
                   _NO_REORDER, _NOT_BLANK, _REQUIRED_SCHEMA]
Note = Annotated[str, _NFC, StringConstraints(max_length=2000), _CLEAN, _NO_REORDER,
                 _TEXT_SCHEMA]
# Optional single-line text of bounded length (phone, e-mail, ID number, query parameters).
Short = Annotated[str, _NFC, StringConstraints(max_length=300), _CLEAN, _LINE, _LINE_SCHEMA]
