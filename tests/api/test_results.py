"""Signed results (issue 26): the officer completes with a result PDF signed PAdES by the dev
signer; pyHanko's validation finds it intact, valid and trusted; the citizen downloads it with
the lookup secret (404 before it is issued, or with a wrong secret)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from asn1crypto import x509 as asn1_x509
from fastapi import FastAPI
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from motcua.eventstore.store import read_stream
from motcua.files.devkeys import make_signer
from tests.api.conftest import MakeToken, act, bearer, print_receipt, receive
from tests.files.conftest import files_configured
from tests.files.pdfs import pdf

CA: dict[str, bytes] = {}


@pytest.fixture
def signing_app(api: FastAPI, tmp_path: Path) -> Iterator[FastAPI]:
    """The app with files and a fresh dev signer (its CA kept for validation)."""
    bundle, passphrase, ca = make_signer()
    (tmp_path / "signer.p12").write_bytes(bundle)
    CA["der"] = ca
    with files_configured(api, signing_pkcs12=tmp_path / "signer.p12",
                          signing_passphrase=passphrase.decode(),
                          file_max_bytes=1024 * 1024) as app:
        yield app


async def _validate(data: bytes) -> tuple[bool, bool, bool, str]:
    reader = PdfFileReader(io.BytesIO(data))
    (signature,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[asn1_x509.Certificate.load(CA["der"])])
    status = await async_validate_pdf_signature(signature, context)
    return status.intact, status.valid, status.trusted, str(signature.sig_object["/SubFilter"])


async def _processing(http: httpx.AsyncClient, token: str, officer: str) -> tuple[str, str]:
    code = (await receive(http, token))["code"]
    secret = await print_receipt(http, token, code)
    assert (await act(http, token, code, "assign", {"officer": officer})).status_code == 200
    return code, secret


async def test_rendered_result_signed_and_downloaded(
        signing_app: FastAPI, http: httpx.AsyncClient, dev_token: str,
        make_token: MakeToken, pool: asyncpg.Pool) -> None:
    """Completing with a result renders and signs it (PAdES, validated by pyHanko), records its
    hash, makes the dossier ready, and the citizen downloads the same bytes with the secret."""
    officer = await make_token("officer", name="officer-result-1")
    code, secret = await _processing(http, dev_token, "officer-result-1")
    assert (await act(http, officer, code, "start")).status_code == 200
    before = await http.get(f"/v1/public/dossiers/{code}/result",
                            headers={"X-Lookup-Secret": secret})
    assert before.status_code == 404
    issued = await http.post(f"/v1/dossiers/{code}/result", headers=bearer(officer),
                             files=[("summary", (None, "Cấp giấy khai sinh"))])
    assert issued.status_code == 201, issued.text
    view = issued.json()
    assert view["purpose"] == "result" and view["uploaded_by"] == "officer-result-1"
    state = await http.get(f"/v1/dossiers/{code}", headers=bearer(dev_token))
    assert state.json()["state"] == "ready"
    got = await http.get(f"/v1/public/dossiers/{code}/result",
                         headers={"X-Lookup-Secret": secret})
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(got.content).hexdigest() == view["sha256"]
    events = [e.payload for e in await read_stream(pool, code)
              if e.event_type == "FileAttached"]
    assert [e["sha256"] for e in events] == [view["sha256"]]
    assert await _validate(got.content) == (True, True, True, "/ETSI.CAdES.detached")
    wrong = await http.get(f"/v1/public/dossiers/{code}/result",
                           headers={"X-Lookup-Secret": "AAAA-BBBB-CCCC"})
    assert wrong.status_code == 404
    listed = await http.get(f"/v1/dossiers/{code}/files", headers=bearer(dev_token))
    assert [f["purpose"] for f in listed.json()] == ["result"]


async def test_uploaded_result_signed_and_tampering_detected(
        signing_app: FastAPI, http: httpx.AsyncClient, dev_token: str) -> None:
    """An uploaded result PDF is signed as it is (its pages kept); a changed byte in the signed
    range makes pyHanko report the signature broken; a result that is not a PDF is 415, an
    unreadable one 422, and neither completes the dossier."""
    code, _secret = await _processing(http, dev_token, "o-upload")
    assert (await act(http, dev_token, code, "start")).status_code == 200
    image = await http.post(f"/v1/dossiers/{code}/result", headers=bearer(dev_token),
                            data={"summary": "x"},
                            files={"file": ("r.png", b"\x89PNG\r\n\x1a\n....", "image/png")})
    assert image.status_code == 415
    broken = await http.post(f"/v1/dossiers/{code}/result", headers=bearer(dev_token),
                             data={"summary": "x"},
                             files={"file": ("r.pdf", b"%PDF-1.7\nbroken", "application/pdf")})
    assert broken.status_code == 422
    state = await http.get(f"/v1/dossiers/{code}", headers=bearer(dev_token))
    assert state.json()["state"] == "processing"  # refused before completing
    issued = await http.post(f"/v1/dossiers/{code}/result", headers=bearer(dev_token),
                             data={"summary": "Cấp phép"},
                             files={"file": ("result.pdf", pdf(2, text="QĐ"), "application/pdf")})
    assert issued.status_code == 201, issued.text
    assert issued.json()["pages"] == 2
    data = (await signing_app.state.files_service.result(code))[1]
    assert (await _validate(data))[:3] == (True, True, True)
    at = data.index(b"/Count 2")
    tampered = data[:at] + b"/Count 3" + data[at + len(b"/Count 2"):]
    assert (await _validate(tampered))[0] is False


async def test_result_refusals(signing_app: FastAPI, http: httpx.AsyncClient,
                               dev_token: str, make_token: MakeToken) -> None:
    """Only while processing or ready (409 on a received dossier); only the assignee or a
    leader (403); a clerk lacks the permission (403)."""
    code, _secret = await _processing(http, dev_token, "o-assignee")
    early = await http.post(f"/v1/dossiers/{code}/result", headers=bearer(dev_token),
                            files=[("summary", (None, "x"))])
    assert early.status_code == 409
    stranger = await make_token("officer", name="o-stranger")
    assert (await http.post(f"/v1/dossiers/{code}/result", headers=bearer(stranger),
                            files=[("summary", (None, "x"))])).status_code == 403
    clerk = await make_token("clerk")
    assert (await http.post(f"/v1/dossiers/{code}/result", headers=bearer(clerk),
                            files=[("summary", (None, "x"))])).status_code == 403
