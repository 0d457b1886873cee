"""The rendered result is PDF/A-2u with its font embedded (issue 26; Noto Sans from PyPI by
default, DejaVu Sans from a folder by setting): read back with pypdf
before and after the PAdES signature, the XMP says PDF/A-2u, the sRGB output intent is there,
every font is embedded, and the text comes out with its Vietnamese accents. A structural check
(what the file declares and holds), not a full PDF/A validation (veraPDF is not run here)."""

from __future__ import annotations

import io
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from motcua.files.devkeys import make_signer
from motcua.files.signing import FontMissing, LocalSigner, ResultText, render

RESULT = ResultText(code="000.21.39.H39-261207-0001", procedure="Đăng ký thường trú",
                    unit="Ủy ban nhân dân xã Bắc Hà", applicant="Nguyễn Thị Hằng",
                    summary="Cấp giấy xác nhận đăng ký thường trú; hồ sơ hợp lệ đầy đủ",
                    signed_by="Trần Đức Lượng", issued_at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC))


def pdfa_identification(data: bytes) -> tuple[str, str]:
    """(part, conformance) from the document's XMP metadata."""
    reader = PdfReader(io.BytesIO(data))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    # As an element (fpdf2) or an attribute (pyHanko rewrites the packet when it signs).
    part = re.search(r'pdfaid:part(?:>|=")(\w+)', xmp)
    conformance = re.search(r'pdfaid:conformance(?:>|=")(\w+)', xmp)
    assert part is not None and conformance is not None, xmp
    return part.group(1), conformance.group(1)


def fonts(data: bytes) -> list[DictionaryObject]:
    """The descendant or simple fonts of the page, as dictionaries."""
    page = PdfReader(io.BytesIO(data)).pages[0]
    found = []
    for ref in page["/Resources"]["/Font"].values():
        font = ref.get_object()
        for desc in font.get("/DescendantFonts", [font]):
            found.append(desc.get_object())
    return found


def check_pdfa(data: bytes, font: str = "NotoSans") -> None:
    assert pdfa_identification(data) == ("2", "U")
    assert data.startswith(b"%PDF-1.7")  # PDF/A-2 is based on PDF 1.7
    trailer = PdfReader(io.BytesIO(data)).trailer
    assert len(trailer["/ID"]) == 2  # PDF/A asks for the file identifier in the trailer
    root = trailer["/Root"]
    (intent,) = [i.get_object() for i in root["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    assert "sRGB" in str(intent["/OutputConditionIdentifier"])
    found = fonts(data)
    assert found, "no font on the page"
    for each in found:
        descriptor = each["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, f"{each['/BaseFont']} is not embedded"
        assert font in str(each["/BaseFont"])
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    for words in ("KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", "Đăng ký thường trú",
                  "Ủy ban nhân dân xã Bắc Hà", "Nguyễn Thị Hằng", "Trần Đức Lượng",
                  "hồ sơ hợp lệ đầy đủ"):
        assert words in text, f"{words!r} not in {text!r}"


async def test_rendered_result_is_pdfa_with_vietnamese_before_and_after_signing(
        tmp_path: Path) -> None:
    """PDF/A-2u with DejaVu embedded and the accents intact; still so once signed (an
    incremental update), and the signature validates."""
    data = render(RESULT)
    check_pdfa(data)
    bundle, passphrase, ca_der = make_signer("UBND xã Bắc Hà")
    (tmp_path / "s.p12").write_bytes(bundle)
    signed = await LocalSigner(tmp_path / "s.p12", passphrase).sign(
        data, reason="Kết quả", location="Bắc Hà")
    assert signed.startswith(data)  # incremental: the PDF/A bytes stay as rendered
    check_pdfa(signed)
    (signature,) = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    status = await async_validate_pdf_signature(signature, ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(ca_der)]))
    assert (status.intact, status.valid, status.trusted) == (True, True, True)


DEBIAN_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


def test_a_font_folder_by_setting_is_embedded_instead() -> None:
    """MOTCUA_RESULT_FONT_DIR: DejaVu Sans from a folder, embedded, accents intact."""
    if not (DEBIAN_DEJAVU / "DejaVuSans.ttf").is_file():
        if os.environ.get("CI"):
            pytest.fail("fonts-dejavu-core is not installed; CI installs it from .ci/apt-packages")
        pytest.skip("no DejaVu Sans here (apt-get install fonts-dejavu-core); the default font "
                    "needs none")
    check_pdfa(render(RESULT, DEBIAN_DEJAVU), font="DejaVuSans")


def test_missing_font_is_said(tmp_path: Path) -> None:
    """A folder without the font: the result is not rendered (no PDF/A without an embedded
    font), and the message says what to do."""
    with pytest.raises(FontMissing, match="fonts-dejavu-core"):
        render(RESULT, tmp_path)
