"""Issue 26, the rest: digitisation required before assignment (a catalog flag), and
`Idempotency-Key` on uploads; on the real stack with PDFs made in the test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from motcua.eventstore.store import read_stream
from tests.api.conftest import OTHER_UNIT, act, bearer, make_officer, project, receipt_body
from tests.api.test_files import upload
from tests.files.catalogs import digitise_first
from tests.files.conftest import files_configured
from tests.files.pdfs import pdf


@pytest.fixture
def files_app(api: FastAPI) -> Iterator[FastAPI]:
    with files_configured(api) as app:
        yield app


async def _receive_when_known(http: httpx.AsyncClient, token: str, procedure: str,
                              documents: list[str], within: float = 30.0) -> dict[str, Any]:
    """Receive under `procedure` once the API and the worker follow the catalog naming it."""
    deadline = time.monotonic() + within
    while True:
        response = await http.post("/v1/dossiers", json=receipt_body(
            procedure_code=procedure, documents=documents), headers=bearer(token))
        if response.status_code == 201:
            body: dict[str, Any] = response.json()
            return body
        assert response.status_code == 422 and time.monotonic() < deadline, response.text
        await asyncio.sleep(0.1)


async def test_assign_waits_for_every_paper_scanned(
        files_app: FastAPI, http: httpx.AsyncClient, dev_token: str,
        pool: asyncpg.Pool) -> None:
    """Under a procedure with `digitise_before_assign`, assign is 409 `digitisation-required`
    naming the papers not yet scanned (Decree 118/2025 art. 17(1)(c)), nothing recorded; a
    file per paper (matched by name, case aside) lets it through. A procedure without the
    flag assigns at once."""
    officer = await make_officer(pool, "officer-digitise-1")
    plain = (await http.post("/v1/dossiers", json=receipt_body(
        documents=["Tờ khai", "Giấy khai sinh"]), headers=bearer(dev_token))).json()
    assert (await act(http, dev_token, plain["code"], "assign", {"officer": officer})
            ).status_code == 200
    async with digitise_first(pool) as procedure:
        code = (await _receive_when_known(http, dev_token, procedure,
                                          ["Tờ khai", "Giấy khai sinh"]))["code"]
        shown = await http.get(f"/v1/procedures/{procedure}", headers=bearer(dev_token))
        assert shown.status_code == 200 and shown.json()["digitise_before_assign"] is True
        refused = await act(http, dev_token, code, "assign", {"officer": officer})
        assert refused.status_code == 409, refused.text
        problem = refused.json()
        assert problem["type"].endswith("/digitisation-required")
        assert problem["missing"] == ["Tờ khai", "Giấy khai sinh"]
        assert "17(1)(c)" in problem["detail"] and "Giấy khai sinh" in problem["detail"]
        assert (await upload(http, dev_token, code, pdf(1), name="Tờ khai")).status_code == 201
        again = await act(http, dev_token, code, "assign", {"officer": officer})
        assert again.status_code == 409 and again.json()["missing"] == ["Giấy khai sinh"]
        events = [e.event_type for e in await read_stream(pool, code)]
        assert "OfficerAssigned" not in events
        scanned = await upload(http, dev_token, code, pdf(2), name="  giấy KHAI sinh ", pages=2)
        assert scanned.status_code == 201, scanned.text
        assigned = await act(http, dev_token, code, "assign", {"officer": officer})
        assert assigned.status_code == 200, assigned.text
        assert assigned.json()["assignee"] == officer


async def test_the_counter_step_waits_for_the_scans_under_an_internal_procedure(
        files_app: FastAPI, http: httpx.AsyncClient, dev_token: str,
        pool: asyncpg.Pool) -> None:
    """A procedure with an internal procedure is not assigned at the counter: its first
    hand-over (out of the counter's receive-and-digitise step) is what waits for the scans,
    409 naming the missing paper, nothing recorded; then it goes through."""
    async with digitise_first(pool, base="1.004944", code="L.so-hoa-theo-buoc") as procedure:
        code = (await _receive_when_known(http, dev_token, procedure, ["Tờ khai"]))["code"]
        refused = await act(http, dev_token, code, "hand-over", {"note": "đủ hồ sơ"})
        assert refused.status_code == 409, refused.text
        assert refused.json()["missing"] == ["Tờ khai"]
        assert "StepHandedOver" not in [e.event_type for e in await read_stream(pool, code)]
        assert (await upload(http, dev_token, code, pdf(1), name="Tờ khai")).status_code == 201
        handed = await act(http, dev_token, code, "hand-over", {"note": "đủ hồ sơ"})
        assert handed.status_code == 200, handed.text
        assert handed.json()["current_step"] == 1


async def test_an_upload_retried_with_its_key_is_stored_once(
        files_app: FastAPI, http: httpx.AsyncClient, dev_token: str,
        pool: asyncpg.Pool) -> None:
    """Same key and same bytes: the first 201 again, marked replayed, one file and one event;
    same key with other bytes (or another page count): 422 `idempotency-key-reused`; a
    refusal that changed nothing (415) frees the key for a corrected file."""
    code = (await http.post("/v1/dossiers", json=receipt_body(),
                            headers=bearer(dev_token))).json()["code"]
    data = pdf(2, text="Sổ hộ khẩu")
    key = {"Idempotency-Key": f"scan-{code}-1"}

    async def send(body: bytes, pages: int = 2, **headers: str) -> httpx.Response:
        return await http.post(
            f"/v1/dossiers/{code}/files",
            data={"name": "Sổ hộ khẩu", "kind": "copy", "pages": str(pages)},
            files={"file": ("scan.pdf", body, "application/pdf")},
            headers=bearer(dev_token, **headers))

    first = await send(data, **key)
    assert first.status_code == 201, first.text
    again = await send(data, **key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    other = await send(pdf(2, text="Một bản khác"), **key)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert (await send(data, pages=3, **key)).status_code == 422
    files = (await http.get(f"/v1/dossiers/{code}/files", headers=bearer(dev_token))).json()
    assert [f["id"] for f in files] == [first.json()["id"]]
    attached = [e for e in await read_stream(pool, code) if e.event_type == "FileAttached"]
    assert len(attached) == 1
    fresh = {"Idempotency-Key": f"scan-{code}-2"}
    wrong = await send(b"not a scan at all", **fresh)
    assert wrong.status_code == 415
    fixed = await send(data, **fresh)
    assert fixed.status_code == 201 and fixed.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in fixed.headers
    # Without a key every upload is its own.
    plain = [await send(data) for _ in range(2)]
    assert [r.status_code for r in plain] == [201, 201]
    assert plain[0].json()["id"] != plain[1].json()["id"]
    # A retry after the dossier moved on still gets its first answer; a new upload does not.
    assert (await act(http, dev_token, code, "refuse", {"reason": "Sai thẩm quyền"})
            ).status_code == 200
    late = await send(data, **key)
    assert late.status_code == 201 and late.json() == first.json()
    assert (await send(data, **{"Idempotency-Key": f"scan-{code}-3"})).status_code == 409


async def test_files_reach_the_decision_766_group_4_figures(
        files_app: FastAPI, http: httpx.AsyncClient, dev_token: str,
        pool: asyncpg.Pool) -> None:
    """A dossier received today with a scanned component, a component from the national data
    store and a reused one adds 1 to each of its unit's group 4 counts (definition qd766-4),
    once per dossier however many files it has."""
    async def figures() -> dict[str, Any]:
        await project(pool)
        day = files_app.state.resources.calendar.local(datetime.now(UTC)).date().isoformat()
        report = await http.get("/v1/reports/sla", params={
            "from": day, "to": day, "unit": OTHER_UNIT}, headers=bearer(dev_token))
        assert report.status_code == 200, report.text
        totals: dict[str, Any] = report.json()["totals"]
        return totals

    earlier = (await http.post("/v1/dossiers", json=receipt_body(unit_code=OTHER_UNIT),
                               headers=bearer(dev_token))).json()["code"]
    source = (await upload(http, dev_token, earlier, pdf(1), name="Căn cước")).json()
    before = await figures()
    code = (await http.post("/v1/dossiers", json=receipt_body(unit_code=OTHER_UNIT),
                            headers=bearer(dev_token))).json()["code"]
    for fields in ({"name": "Tờ khai"}, {"name": "Tờ khai bản 2"},
                   {"name": "Giấy khai sinh", "from_national_store": "true"}):
        assert (await upload(http, dev_token, code, pdf(1), **fields)).status_code == 201
    reused = await http.post(f"/v1/dossiers/{code}/files/reuse", headers=bearer(dev_token),
                             json={"from_code": earlier, "file_id": source["id"]})
    assert reused.status_code == 201, reused.text
    after = await figures()
    assert after["received_direct_postal"] == before["received_direct_postal"] + 1
    for count in ("digitised_components", "digitised_national_store", "digitised_reused"):
        assert after[count] == before[count] + 1, count
    assert after["electronic_results"] == before["electronic_results"]
    assert after["digitised_rate"] == round(
        after["digitised_components"] / (after["received_online"]
                                         + after["received_direct_postal"]), 6)
