"""The citizen documents over HTTP: rendered from the events, scoped like the dossier."""

from __future__ import annotations

import httpx

from tests.api.conftest import MakeToken, act, bearer, receive


async def test_receipt_and_refusal_documents(http: httpx.AsyncClient, dev_token: str) -> None:
    """The receipt slip is HTML with the code; a refusal slip exists only once refused."""
    d = await receive(http, dev_token)
    code = d["code"]
    slip = await http.get(f"/v1/dossiers/{code}/documents/receipt", headers=bearer(dev_token))
    assert slip.status_code == 200 and slip.headers["content-type"].startswith("text/html")
    assert code in slip.text and "Nguyễn Văn An" in slip.text
    none_yet = await http.get(f"/v1/dossiers/{code}/documents/refusal",
                              headers=bearer(dev_token))
    assert none_yet.status_code == 409
    assert none_yet.json()["type"].endswith("/document-unavailable")
    assert (await act(http, dev_token, code, "refuse", {"reason": "Sai thẩm quyền"})
            ).status_code == 200
    refusal = await http.get(f"/v1/dossiers/{code}/documents/refusal",
                             headers=bearer(dev_token))
    assert refusal.status_code == 200 and "Sai thẩm quyền" in refusal.text
    control = await http.get(f"/v1/dossiers/{code}/documents/process-control",
                             headers=bearer(dev_token))
    assert control.status_code == 200 and code in control.text


async def test_document_errors(http: httpx.AsyncClient, dev_token: str,
                               make_token: MakeToken) -> None:
    """Unknown kind is 422, unknown dossier 404, another unit's dossier 404."""
    d = await receive(http, dev_token)
    bad_kind = await http.get(f"/v1/dossiers/{d['code']}/documents/passport",
                              headers=bearer(dev_token))
    assert bad_kind.status_code == 422
    missing = await http.get("/v1/dossiers/000.21.39.H39-200101-9999/documents/receipt",
                             headers=bearer(dev_token))
    assert missing.status_code == 404
    other = await make_token("clerk", unit="000.22.39.H39")
    hidden = await http.get(f"/v1/dossiers/{d['code']}/documents/receipt",
                            headers=bearer(other))
    assert hidden.status_code == 404
