"""What a file is, judged by its bytes, never by its name or declared type; and how many
pages it really has. Circular 01/2023/TT-VPCP art. 8 asks for every page, in order, with the
counts matching: a declared page count that differs from the file is refused with both."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PyPdfError

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"

# The signatures: PDF's header (ISO 32000-2 §7.5.2; readers accept it within the first
# 1024 bytes, we accept it at the start only, as scanners write it), JPEG's SOI marker followed
# by a marker's FF, PNG's 8-byte signature (RFC 2083 §3.1).
_MAGIC = ((b"%PDF-", PDF), (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))


class ContentRefused(Exception):
    """The bytes are not an accepted file (`unsupported`: the type; else: unreadable or the
    page count differs). `reason` is for the clerk."""

    def __init__(self, reason: str, *, unsupported: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unsupported = unsupported


def media_type(data: bytes) -> str:
    """The media type of `data` by its magic bytes; `ContentRefused(unsupported=True)` for
    anything but PDF, JPEG and PNG."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    raise ContentRefused("only PDF, JPEG and PNG files are accepted (judged by content)",
                         unsupported=True)


def page_count(data: bytes, kind: str) -> int:
    """Pages in the file: a PDF's page tree (pypdf), 1 for an image."""
    if kind != PDF:
        return 1
    # pypdf logs its repairs of damaged files as warnings; a refusal says enough.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ContentRefused("the PDF is password-protected; scan or export it without")
        return len(reader.pages)
    except ContentRefused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError) as err:
        # A damaged PDF raises many kinds of error inside pypdf; all mean "cannot be read".
        raise ContentRefused(f"the PDF cannot be read: {type(err).__name__}") from err


def check(data: bytes, declared_pages: int) -> tuple[str, int]:
    """(media type, pages) when `data` is an accepted file of `declared_pages` pages; else
    `ContentRefused`."""
    if not data:
        raise ContentRefused("the file is empty")
    kind = media_type(data)
    pages = page_count(data, kind)
    if pages != declared_pages:
        raise ContentRefused(f"declared {declared_pages} page(s) but the file has {pages} "
                             "(Circular 01/2023/TT-VPCP art. 8: every page, counts matching)")
    return kind, pages
