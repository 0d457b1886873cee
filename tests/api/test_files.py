"""Files on a dossier over HTTP (issue 26): upload, list, download byte for byte, and every
refusal (role, unit, size, type, page count), on the real stack."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from motcua.cli import dossier as cli_dossier
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.eventstore.store import read_stream
from motcua.files.store import S3FileStore
from tests.api.conftest import OTHER_UNIT, MakeToken, act, bearer, receive
from tests.conftest import UNIT
from tests.files.conftest import MAX_BYTES, files_configured, moto_s3
from tests.files.pdfs import pdf, png


@pytest.fixture
def files_app(api: FastAPI) -> Iterator[FastAPI]:
    """The session's app with files configured (a test master key, a 64 KiB limit)."""
    with files_configured(api) as app:
        yield app


def form(name: str = "Tờ khai", kind: str = "original", pages: int = 1) -> dict[str, str]:
    return {"name": name, "kind": kind, "pages": str(pages)}


async def upload(http: httpx.AsyncClient, token: str, code: str, data: bytes,
                 filename: str = "scan.pdf", **fields: str | int) -> httpx.Response:
    values = {**form(), **{k: str(v) for k, v in fields.items()}}
    return await http.post(f"/v1/dossiers/{code}/files", data=values,
                           files={"file": (filename, data, "application/octet-stream")},
                           headers=bearer(token))


async def test_upload_list_download(files_app: FastAPI, http: httpx.AsyncClient,
                                    make_token: MakeToken, pool: asyncpg.Pool) -> None:
    """A 3-page PDF is stored: 201 with id, sha256 and size; listed; downloaded byte for byte;
    the stream holds a FileAttached event with the hash, and the bytes are stored encrypted."""
    clerk = await make_token("clerk")
    code = (await receive(http, clerk))["code"]
    data = pdf(3, text="Giấy khai sinh")
    response = await upload(http, clerk, code, data, pages=3, name="Giấy khai sinh",
                            kind="copy")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["size"] == len(data)
    assert body["pages"] == 3 and body["kind"] == "copy" and body["digitised"] is True
    listed = await http.get(f"/v1/dossiers/{code}/files", headers=bearer(clerk))
    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()] == [body["id"]]
    got = await http.get(f"/v1/dossiers/{code}/files/{body['id']}", headers=bearer(clerk))
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/pdf"
    events = [e for e in await read_stream(pool, code) if e.event_type == "FileAttached"]
    assert len(events) == 1 and events[0].payload["sha256"] == body["sha256"]
    assert events[0].payload["uploaded_by"] and "data" not in events[0].payload
    stored = await pool.fetchval("SELECT data FROM file_blobs WHERE key = $1",
                                 f"{code}/{body['id']}")
    assert stored is not None and b"%PDF" not in bytes(stored)  # encrypted at rest


async def test_images_count_one_page(files_app: FastAPI, http: httpx.AsyncClient,
                                     dev_token: str) -> None:
    """A PNG is one page: declared 1 is stored, declared 2 is refused with the reason."""
    code = (await receive(http, dev_token))["code"]
    assert (await upload(http, dev_token, code, png(), "a.png")).status_code == 201
    wrong = await upload(http, dev_token, code, png(), "a.png", pages=2)
    assert wrong.status_code == 422
    assert "declared 2" in wrong.json()["detail"] and "has 1" in wrong.json()["detail"]


async def test_refusals(files_app: FastAPI, http: httpx.AsyncClient, make_token: MakeToken,
                        dev_token: str) -> None:
    """Operations 403, another unit 404, over the limit 413, not PDF/JPEG/PNG 415 (whatever
    the name), a JSON body 415, a page count that differs 422; nothing recorded for any."""
    code = (await receive(http, dev_token))["code"]
    one = pdf(1)
    ops = await make_token("ops")
    assert (await upload(http, ops, code, one)).status_code == 403
    other = await make_token("clerk", unit=OTHER_UNIT)
    assert (await upload(http, other, code, one)).status_code == 404
    big = one + b"\n%" + b"x" * MAX_BYTES
    too_big = await upload(http, dev_token, code, big)
    assert too_big.status_code == 413 and too_big.json()["type"].endswith("/file-too-large")
    text = await upload(http, dev_token, code, b"hello, not a pdf", "fake.pdf")
    assert text.status_code == 415
    assert text.json()["type"].endswith("/unsupported-file-type")
    as_json = await http.post(f"/v1/dossiers/{code}/files", json=form(),
                              headers=bearer(dev_token))
    assert as_json.status_code == 415
    mismatch = await upload(http, dev_token, code, pdf(2), pages=3)
    assert mismatch.status_code == 422
    assert "declared 3" in mismatch.json()["detail"] and "has 2" in mismatch.json()["detail"]
    broken = await upload(http, dev_token, code, b"%PDF-1.7\nnot really")
    assert broken.status_code == 422
    listed = await http.get(f"/v1/dossiers/{code}/files", headers=bearer(dev_token))
    assert listed.json() == []
    missing = await http.get(f"/v1/dossiers/{code}/files/00000000-0000-0000-0000-000000000000",
                             headers=bearer(dev_token))
    assert missing.status_code == 404


async def test_who_may_upload(files_app: FastAPI, http: httpx.AsyncClient,
                              make_token: MakeToken, dev_token: str) -> None:
    """During processing the assigned officer may add files, another officer may not; a
    finished dossier takes no more components (409)."""
    code = (await receive(http, dev_token))["code"]
    assignee = await make_token("officer", name="officer-files-1")
    stranger = await make_token("officer", name="officer-files-2")
    assert (await act(http, dev_token, code, "assign", {"officer": "officer-files-1"})
            ).status_code == 200
    assert (await upload(http, stranger, code, pdf(1))).status_code == 403
    assert (await upload(http, assignee, code, pdf(1))).status_code == 201
    assert (await act(http, dev_token, code, "refuse", {"reason": "Sai thẩm quyền"})
            ).status_code == 200
    late = await upload(http, dev_token, code, pdf(1))
    assert late.status_code == 409


async def test_erasure_destroys_the_key(files_app: FastAPI, http: httpx.AsyncClient,
                                        dev_token: str, pool: asyncpg.Pool,
                                        postgres: EmbeddedPostgres,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`motcua dossier erase` destroys the dossier's key and records who and why: the file
    answers 410 afterwards, even with its ciphertext put back as a data backup would, and
    no new file is taken."""
    code = (await receive(http, dev_token))["code"]
    stored = (await upload(http, dev_token, code, pdf(2), pages=2)).json()
    sealed = await pool.fetchval("SELECT data FROM file_blobs WHERE key = $1",
                                 f"{code}/{stored['id']}")
    monkeypatch.setenv("DATABASE_URL", postgres.dsn)
    monkeypatch.setenv("MOTCUA_FILES_MASTER_KEY",
                       files_app.state.file_settings.files_master_key.get_secret_value())
    status = await asyncio.to_thread(cli_dossier.main, [
        "erase", code, "--reason", "yêu cầu xóa số 12/2026", "--operator", "op-an"])
    assert status == 0
    audit = await pool.fetchrow("SELECT * FROM dossier_erasures WHERE code = $1", code)
    assert audit is not None and audit["erased_by"] == "op-an" and audit["blobs_deleted"] == 1
    key = await pool.fetchrow("SELECT wrapped, erased_at FROM motcua_keys.dossier_keys "
                              "WHERE code = $1", code)
    assert key is not None and key["wrapped"] is None and key["erased_at"] is not None
    await pool.execute("INSERT INTO file_blobs (key, data) VALUES ($1, $2)",
                       f"{code}/{stored['id']}", sealed)  # a restored data backup
    gone = await http.get(f"/v1/dossiers/{code}/files/{stored['id']}",
                          headers=bearer(dev_token))
    assert gone.status_code == 410 and gone.json()["type"].endswith("/erased")
    assert (await upload(http, dev_token, code, pdf(1))).status_code == 410
    refused = await asyncio.to_thread(cli_dossier.main, ["erase", code, "--reason", " "])
    assert refused == 1


async def test_reuse_across_dossiers(files_app: FastAPI, http: httpx.AsyncClient,
                                     dev_token: str, make_token: MakeToken,
                                     pool: asyncpg.Pool) -> None:
    """A file of an earlier dossier is attached again (reused, same hash, read audited),
    encrypted anew under the new dossier's key: erasing the earlier dossier leaves the copy
    readable. Another unit's dossier cannot be a source (404)."""
    first = (await receive(http, dev_token))["code"]
    second = (await receive(http, dev_token))["code"]
    data = pdf(2, text="CCCD")
    original = (await upload(http, dev_token, first, data, pages=2, name="CCCD")).json()
    reused = await http.post(f"/v1/dossiers/{second}/files/reuse", headers=bearer(dev_token),
                             json={"from_code": first, "file_id": original["id"]})
    assert reused.status_code == 201, reused.text
    copy = reused.json()
    assert copy["reused"] is True and copy["reused_from"] == first
    assert copy["sha256"] == original["sha256"] and copy["name"] == "CCCD"
    assert copy["digitised"] is False and copy["pages"] == 2
    read = await pool.fetchrow("SELECT * FROM file_reads WHERE code = $1", first)
    assert read is not None and read["into_code"] == second and read["purpose"] == "reuse"
    blobs = {r["key"]: bytes(r["data"]) for r in await pool.fetch(
        "SELECT key, data FROM file_blobs WHERE key IN ($1, $2)",
        f"{first}/{original['id']}", f"{second}/{copy['id']}")}
    assert len(set(blobs.values())) == 2  # not the same ciphertext
    await files_app.state.files_service.erase(first, reason="test", operator="op")
    again = await http.get(f"/v1/dossiers/{second}/files/{copy['id']}",
                           headers=bearer(dev_token))
    assert again.status_code == 200 and again.content == data
    elsewhere = (await receive(http, dev_token, unit_code=OTHER_UNIT))["code"]
    foreign = (await upload(http, dev_token, elsewhere, pdf(1))).json()
    local_clerk = await make_token("clerk", unit=UNIT)
    hidden = await http.post(f"/v1/dossiers/{second}/files/reuse",
                             headers=bearer(local_clerk),
                             json={"from_code": elsewhere, "file_id": foreign["id"]})
    assert hidden.status_code == 404
    assert await pool.fetchval("SELECT count(*) FROM file_reads WHERE code = $1",
                               elsewhere) == 0


async def test_files_on_s3_by_configuration(api: FastAPI, http: httpx.AsyncClient,
                                            dev_token: str) -> None:
    """With MOTCUA_FILES_S3_* set, the same upload lands in the bucket, encrypted, and comes
    back byte for byte: configuration alone switches the store."""
    with moto_s3() as s3, files_configured(api, **{
            k: v for k, v in s3.model_dump().items() if k.startswith("files_s3")}):
        code = (await receive(http, dev_token))["code"]
        data = pdf(1, text="S3")
        stored = (await upload(http, dev_token, code, data)).json()
        got = await http.get(f"/v1/dossiers/{code}/files/{stored['id']}",
                             headers=bearer(dev_token))
        assert got.status_code == 200 and got.content == data
        assert isinstance(api.state.files_service.store, S3FileStore)
        sealed = await api.state.files_service.store.get(f"{code}/{stored['id']}")
        assert sealed != data and len(sealed) == len(data) + 28  # nonce + tag
