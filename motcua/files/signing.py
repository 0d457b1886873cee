"""Results as signed PDFs: rendered (or uploaded), then signed with a PAdES signature.

Why pyHanko: it is the maintained Python library that both signs and validates PDF signatures
to the PAdES profiles (ETSI EN 319 142: B-B here, B-T/B-LT/B-LTA with a timestamp service),
incrementally (the signed bytes stay as rendered), with a pluggable `Signer` for keys held
elsewhere (HSM, PKCS#11, a remote signing service); the citizen's PDF reader, the portal and
our own test validate the same structure. endesive and pyHanko's alternatives sign but do not
validate, or are unmaintained.

`Signer` is the interface: `LocalSigner` holds a PKCS#12 file (the dev stack makes one on first
start: `motcua.files.devkeys`); `RemoteSigner` sends the digest to the provincial CA's remote
signing service and keeps only the certificate chain here (deploy/FILES.md, "Signed results").

PDF/A: not claimed. The rendered result uses the standard Helvetica font, not embedded, and has
no output intent, so it is plain PDF 1.7; PDF/A-2b would need an embedded font with Vietnamese
glyphs, an sRGB output intent and XMP metadata (a next step). The text is folded to ASCII
for the same reason (Helvetica's WinAnsi encoding has no Vietnamese letters).
"""

from __future__ import annotations

import base64
import hashlib
import io
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import httpx
from asn1crypto import x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore

FIELD = "motcua-result"


class Signer(Protocol):
    """Signs a PDF; returns the signed PDF (an incremental update of the input)."""

    async def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes: ...


class PadesSigner:
    """Any pyHanko signer, used to put a PAdES baseline signature (B-B) on a PDF."""

    def __init__(self, signer: signers.Signer) -> None:
        self._signer = signer

    async def sign(self, pdf: bytes, *, reason: str, location: str) -> bytes:
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD, md_algorithm="sha256", reason=reason, location=location,
            # ETSI.CAdES.detached: the PAdES baseline (B-B) signature container.
            subfilter=fields.SigSeedSubFilter.PADES)
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        out = await signers.async_sign_pdf(writer, meta, signer=self._signer)
        signed: bytes = out.getvalue()
        return signed


class LocalSigner(PadesSigner):
    """A signer whose certificate and key are a PKCS#12 file here (dev stack, or a province
    that keeps its signing key on the API host)."""

    def __init__(self, pkcs12: Path, passphrase: bytes | None) -> None:
        loaded = signers.SimpleSigner.load_pkcs12(  # type: ignore[no-untyped-call] # pyHanko
            str(pkcs12), passphrase=passphrase)
        if loaded is None:
            raise ValueError(f"cannot load the signing key from {pkcs12}")
        super().__init__(loaded)


class _RemoteRaw(signers.Signer):
    """pyHanko's raw-signature step sent to a remote signing service: the digest of what is
    signed goes out, the raw signature comes back; pyHanko builds the CMS around it."""

    def __init__(self, *, client: httpx.AsyncClient, url: str, key_id: str,
                 chain: list[x509.Certificate], signature_size: int) -> None:
        super().__init__(signing_cert=chain[0],
                         cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call] # pyHanko
                             chain))
        self._client, self._url, self._key_id = client, url, key_id
        self._size = signature_size

    async def async_sign_raw(self, data: bytes, digest_algorithm: str,
                             dry_run: bool = False) -> bytes:
        if dry_run:  # pyHanko sizing the signature's placeholder: no call to the service
            return bytes(self._size)
        digest = hashlib.new(digest_algorithm, data).digest()
        answer = await self._client.post(self._url, json={
            "key_id": self._key_id, "digest_algorithm": digest_algorithm,
            "digest": base64.b64encode(digest).decode()})
        answer.raise_for_status()
        return base64.b64decode(answer.json()["signature"])


class RemoteSigner(PadesSigner):
    """The provincial CA's remote signing service (production): the unit's certificate chain
    is known here, its key stays with the service. The contract assumed (adapt to the
    province's API): `POST url` with JSON `{key_id, digest_algorithm, digest}` (base64 of the
    digest of the CMS signed attributes) answers `{signature}` (base64 of the raw signature:
    DER ECDSA or PKCS#1 v1.5 RSA, as the certificate's key)."""

    def __init__(self, *, client: httpx.AsyncClient, url: str, key_id: str,
                 chain: list[x509.Certificate], signature_size: int = 512) -> None:
        super().__init__(_RemoteRaw(client=client, url=url, key_id=key_id, chain=chain,
                                    signature_size=signature_size))


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
