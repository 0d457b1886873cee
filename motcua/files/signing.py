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

PDF/A (`render`): the rendered result is PDF/A-2u (ISO 19005-2, level U: every glyph maps to
Unicode, so its text can be searched and copied), written by fpdf2 (a maintained pure-Python
PDF writer with PDF/A output: XMP identification, an sRGB output intent, embedded TrueType
subsets with ToUnicode maps). The font is Noto Sans (SIL Open Font Licence, covers
Vietnamese) from the PyPI package `pymupdf-fonts`, so no system font is needed; a deployment
may name a folder with DejaVu Sans instead (`MOTCUA_RESULT_FONT_DIR`). Either is embedded, so
accents survive in every reader. Signing is an
incremental update, which PDF/A-2 allows, so the signed file keeps the identification. How it
is checked: `tests/files/test_result_pdfa.py` reads back the XMP identification, the output
intent, the embedded font files and the text, accents intact, with pypdf, before and after
signing; no full PDF/A validator (veraPDF is Java) runs here.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Protocol

import httpx
from asn1crypto import x509
from fpdf import FPDF
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


# A folder named by MOTCUA_RESULT_FONT_DIR holds DejaVu Sans (e.g. Debian's fonts-dejavu-core).
FONT, FONT_BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
PDFA = "PDFA_2U"  # fpdf2's name for PDF/A-2u (ISO 19005-2, level U)


class FontMissing(RuntimeError):
    """The font the result is rendered with is not installed."""


def _packaged_fonts() -> tuple[Path, Path]:
    """Noto Sans regular and bold from `pymupdf-fonts` (the package keeps each font as
    compressed bytes in a module), written once per version to the temporary folder, since
    fpdf2 reads fonts from files."""
    folder = Path(tempfile.gettempdir()) / f"motcua-fonts-{metadata.version('pymupdf-fonts')}"
    paths = folder / "NotoSans-Regular.ttf", folder / "NotoSans-Bold.ttf"
    for path, module in zip(paths, ("NotoSans_Regular", "NotoSans_Bold"), strict=True):
        if path.is_file():
            continue
        try:
            data: bytes = importlib.import_module(f"pymupdf_fonts.{module}").fontbuffer
        except ImportError as err:
            raise FontMissing("the pymupdf-fonts package is missing: reinstall motcua or set "
                              "MOTCUA_RESULT_FONT_DIR") from err
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(path)  # atomic: another process may be writing the same file
    return paths


def render(result: ResultText, font_dir: Path | None = None) -> bytes:
    """A one-page A4 PDF/A-2u stating the result, in Vietnamese, with its font embedded
    (see the module docstring)."""
    if font_dir is None:
        regular, bold = _packaged_fonts()
    else:
        regular, bold = font_dir / FONT, font_dir / FONT_BOLD
        for path in (regular, bold):
            if not path.is_file():
                raise FontMissing(f"{path} is missing: install fonts-dejavu-core there or "
                                  "unset MOTCUA_RESULT_FONT_DIR (the packaged Noto Sans)")
    pdf = FPDF(format="A4", enforce_compliance=PDFA)
    pdf.set_lang("vi")
    pdf.set_title(f"Kết quả giải quyết hồ sơ {result.code}")
    pdf.set_author(result.unit)
    pdf.set_creator("motcua")
    pdf.set_creation_date(result.issued_at)
    pdf.add_font("Sans", "", str(regular))
    pdf.add_font("Sans", "B", str(bold))
    pdf.add_page()
    pdf.set_font("Sans", "B", 15)
    pdf.multi_cell(0, 10, "KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", align="C",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Sans", "", 11)
    for label, value in (
            ("Mã hồ sơ", result.code), ("Thủ tục", result.procedure), ("Cơ quan", result.unit),
            ("Người nộp", result.applicant), ("Kết quả", result.summary),
            ("Ngày ban hành", result.issued_at.strftime("%d/%m/%Y %H:%M")),
            ("Người ký", result.signed_by)):
        pdf.multi_cell(0, 7, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
