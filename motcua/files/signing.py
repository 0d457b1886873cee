"""Results as signed PDFs: rendered (or uploaded), then signed with a PAdES signature.

Why pyHanko: it is the maintained Python library that both signs and validates PDF signatures
to the PAdES profiles (ETSI EN 319 142: B-B here, B-T/B-LT/B-LTA with a timestamp service),
incrementally (the signed bytes stay as rendered), with a pluggable `Signer` for keys held
elsewhere (HSM, PKCS#11, a remote signing service); the citizen's PDF reader, the portal and
our own test validate the same structure. endesive and pyHanko's alternatives sign but do not
validate, or are unmaintained.

`Signer` is the interface: `LocalSigner` holds a PKCS#12 file (the dev stack makes one on first
start: `motcua.files.devkeys`); in production a province plugs in its CA's remote signing
service behind the same method (deploy/FILES.md, "Signing in production").

PDF/A: not claimed. The rendered result uses the standard Helvetica font, not embedded, and has
no output intent, so it is plain PDF 1.7; PDF/A-2b would need an embedded font with Vietnamese
glyphs, an sRGB output intent and XMP metadata (a next step). The text is folded to ASCII
for the same reason (Helvetica's WinAnsi encoding has no Vietnamese letters).
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

FIELD = "motcua-result"


class Signer(Protocol):
    """Signs a PDF; returns the signed PDF (an incremental update of the input)."""

    async def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes: ...


class LocalSigner:
    """A signer whose certificate and key are a PKCS#12 file here (dev stack, or a province
    that keeps its signing key on the API host)."""

    def __init__(self, pkcs12: Path, passphrase: bytes | None) -> None:
        loaded = signers.SimpleSigner.load_pkcs12(  # type: ignore[no-untyped-call] # pyHanko
            str(pkcs12), passphrase=passphrase)
        if loaded is None:
            raise ValueError(f"cannot load the signing key from {pkcs12}")
        self._signer = loaded

    async def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD, md_algorithm="sha256", reason=reason, location=location,
            # ETSI.CAdES.detached: the PAdES baseline (B-B) signature container.
            subfilter=fields.SigSeedSubFilter.PADES)
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = await signers.async_sign_pdf(writer, meta, signer=self._signer)
        signed: bytes = out.getvalue()
        return signed


@dataclass(frozen=True, kw_only=True)
class ResultText:
    """What the rendered result says."""

    code: str
    procedure: str
    unit: str
    applicant: str
    summary: str
    issued_at: datetime
    signed_by: str


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("Đ", "D").replace("đ", "d"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    plain = plain.encode("ascii", "replace").decode("ascii")
    return plain.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def render(result: ResultText) -> bytes:
    """A one-page A4 PDF stating the result (see the module docstring for its limits)."""
    lines = [
        ("F2", 15, "KET QUA GIAI QUYET THU TUC HANH CHINH"),
        ("F1", 11, f"Ma ho so: {result.code}"),
        ("F1", 11, f"Thu tuc: {result.procedure}"),
        ("F1", 11, f"Co quan: {result.unit}"),
        ("F1", 11, f"Nguoi nop: {result.applicant}"),
        ("F1", 11, f"Ket qua: {result.summary}"),
        ("F1", 11, f"Ngay ban hanh: {result.issued_at.strftime('%d/%m/%Y %H:%M')}"),
        ("F1", 11, f"Nguoi ky: {result.signed_by}"),
    ]
    body = ["BT", "1 0 0 1 60 770 Tm"]
    for font, size, text in lines:
        body += [f"/{font} {size} Tf", f"({_ascii(text)[:110]}) Tj", f"0 -{size * 2} Td"]
    body.append("ET")
    stream = "\n".join(body).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 6 0 R "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
        b"/Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Producer (motcua) /Title (" + _ascii(f"Ket qua {result.code}").encode() + b") >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    file_id = hashlib.sha256(stream).hexdigest()[:32].encode()
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R /ID [<%s> <%s>] >>\n"
            % (len(objects) + 1, file_id, file_id))
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
