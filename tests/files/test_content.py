"""What a file is, by its bytes; its real page count; sealing under a dossier's key."""

from __future__ import annotations

import pytest

from motcua.files import content, crypto
from motcua.files.signing import ResultText, render
from tests.files.pdfs import pdf, png


def test_types_by_magic_bytes() -> None:
    """PDF, JPEG and PNG are recognised by content; GIF, text and ZIP are refused."""
    assert content.media_type(pdf(1)) == content.PDF
    assert content.media_type(png()) == content.PNG
    assert content.media_type(b"\xff\xd8\xff\xe0\x00\x10JFIF") == content.JPEG
    for other in (b"GIF89a....", b"hello", b"PK\x03\x04zip", b" %PDF-1.7"):
        with pytest.raises(content.ContentRefused) as refused:
            content.media_type(other)
        assert refused.value.unsupported


def test_page_counts() -> None:
    """A PDF's pages are counted from its page tree; a mismatch names both numbers; an image
    is one page; a damaged PDF is unreadable, not unsupported."""
    assert content.check(pdf(5), 5) == (content.PDF, 5)
    with pytest.raises(content.ContentRefused, match=r"declared 4 page.* has 5"):
        content.check(pdf(5), 4)
    assert content.check(png(), 1) == (content.PNG, 1)
    with pytest.raises(content.ContentRefused) as damaged:
        content.check(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>", 1)
    assert not damaged.value.unsupported


def test_rendered_result_is_one_readable_page() -> None:
    """The rendered result is a PDF of one page (its Vietnamese: test_result_pdfa.py)."""
    from datetime import UTC, datetime

    data = render(ResultText(code="C-1", procedure="Đăng ký khai sinh (lần đầu)", unit="UBND",
                             applicant="Nguyễn Văn An", summary="Cấp", signed_by="o",
                             issued_at=datetime(2026, 12, 7, tzinfo=UTC)))
    assert content.check(data, 1) == (content.PDF, 1)
    assert data.startswith(b"%PDF-1.7")


def test_sealed_blob_opens_only_in_its_place() -> None:
    """A sealed file opens with its key and context only: another key or another place (a
    blob copied under another dossier's name) is `Unreadable`."""
    key, other = crypto.new_key(), crypto.new_key()
    sealed = crypto.seal(key, b"scan", "D-1/f-1")
    assert crypto.open_sealed(key, sealed, "D-1/f-1") == b"scan"
    for wrong_key, place in ((other, "D-1/f-1"), (key, "D-2/f-1")):
        with pytest.raises(crypto.Unreadable):
            crypto.open_sealed(wrong_key, sealed, place)
    with pytest.raises(ValueError, match="32 bytes"):
        crypto.master_key("c2hvcnQ=")
