"""Real files made in the test: PDFs of n blank pages (pypdf), a PNG and a JPEG header."""

from __future__ import annotations

import io
import struct
import zlib

from pypdf import PdfWriter


def pdf(pages: int, *, text: str = "") -> bytes:
    """A valid PDF of `pages` A4 pages (metadata `text`, so two PDFs can differ)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if text:
        writer.add_metadata({"/Title": text})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png() -> bytes:
    """A valid 1x1 white PNG (RFC 2083: signature, IHDR, IDAT, IEND)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))
