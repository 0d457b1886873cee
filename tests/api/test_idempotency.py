"""Idempotency-Key: the same key and body gives the same answer and changes nothing."""

from __future__ import annotations

import asyncio
import unicodedata
import uuid

import asyncpg
import httpx
import pytest

from motcua.services.idempotency import SEALED_ONLY
from tests.api.conftest import act, bearer, receipt_body, receive

pytestmark = pytest.mark.engine


def key() -> str:
    return str(uuid.uuid4())


async def stream_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(DISTINCT stream) FROM events"))


async def event_types(pool: asyncpg.Pool, code: str) -> list[str]:
    return [r["event_type"] for r in await pool.fetch(
        "SELECT event_type FROM events WHERE stream = $1 ORDER BY position", code)]


async def test_receive_twice_makes_one_dossier(http: httpx.AsyncClient, dev_token: str,
                                               pool: asyncpg.Pool) -> None:
    """The same key and body twice: one dossier, one set of events, the same response."""
    k, before = key(), await stream_count(pool)
    first = await http.post("/v1/dossiers", json=receipt_body(),
                            headers=bearer(dev_token, **{"Idempotency-Key": k}))
    second = await http.post("/v1/dossiers", json=receipt_body(),
                             headers=bearer(dev_token, **{"Idempotency-Key": k}))
    assert first.status_code == second.status_code == 201
    # The lookup secret is stored only sealed (issue 24 point 7): this app has no payload
    # keys, so the replay answers it null (tests/api/test_receipt_secret.py has both cases).
    unsealed = {f: None for f in SEALED_ONLY}
    assert {**first.json(), **unsealed} == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await stream_count(pool) == before + 1
    assert await event_types(pool, first.json()["code"]) == ["DossierReceived", "DeadlineSet"]


async def test_same_key_other_body_is_422(http: httpx.AsyncClient, dev_token: str) -> None:
    """Reusing a key for a different request is refused, naming the header."""
    k = key()
    headers = bearer(dev_token, **{"Idempotency-Key": k})
    assert (await http.post("/v1/dossiers", json=receipt_body(), headers=headers)
            ).status_code == 201
    other = await http.post("/v1/dossiers", json=receipt_body(channel="online"),
                            headers=headers)
    assert other.status_code == 422
    assert other.json()["type"] == "https://motcua.dev/problems/idempotency-key-reused"
    assert other.json()["field"] == "Idempotency-Key"


async def test_same_text_in_another_normalisation_is_the_same_request(
        http: httpx.AsyncClient, dev_token: str) -> None:
    """NFC and NFD spellings of the same name are one request (the body is compared in NFC)."""
    k, name = key(), "Phạm Thị Lụa"
    headers = bearer(dev_token, **{"Idempotency-Key": k})
    first = await http.post("/v1/dossiers", json=receipt_body(applicant={"name": name}),
                            headers=headers)
    second = await http.post(
        "/v1/dossiers", json=receipt_body(applicant={"name": unicodedata.normalize("NFD", name)}),
        headers=headers)
    assert second.status_code == 201 and second.json()["code"] == first.json()["code"]


async def test_concurrent_receives_with_one_key(http: httpx.AsyncClient, dev_token: str,
                                                pool: asyncpg.Pool) -> None:
    """Two simultaneous requests with one key create one dossier."""
    k, before = key(), await stream_count(pool)
    headers = bearer(dev_token, **{"Idempotency-Key": k})
    responses = await asyncio.gather(*[
        http.post("/v1/dossiers", json=receipt_body(), headers=headers) for _ in range(3)])
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["code"] for r in responses}) == 1
    assert await stream_count(pool) == before + 1


async def test_action_twice_records_one_event(http: httpx.AsyncClient, dev_token: str,
                                              pool: asyncpg.Pool) -> None:
    """An action retried with its key is replayed; one OfficerAssigned event exists."""
    code, k = (await receive(http, dev_token))["code"], key()
    first = await act(http, dev_token, code, "assign", {"officer": "officer-1"},
                      **{"Idempotency-Key": k})
    second = await act(http, dev_token, code, "assign", {"officer": "officer-1"},
                       **{"Idempotency-Key": k})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert (await event_types(pool, code)).count("OfficerAssigned") == 1
    other = await act(http, dev_token, code, "assign", {"officer": "officer-2"},
                      **{"Idempotency-Key": k})
    assert other.status_code == 422


async def test_lost_response_is_deduplicated_by_temporal(http: httpx.AsyncClient,
                                                         dev_token: str,
                                                         pool: asyncpg.Pool) -> None:
    """If the stored response is lost (crash after the update), the retry reuses the update
    id and Temporal runs the update once."""
    code, k = (await receive(http, dev_token))["code"], key()
    await act(http, dev_token, code, "assign", {"officer": "officer-1"}, **{"Idempotency-Key": k})
    await pool.execute("UPDATE api_idempotency SET response = NULL, status_code = NULL "
                       "WHERE key = $1", k)
    again = await act(http, dev_token, code, "assign", {"officer": "officer-1"},
                      **{"Idempotency-Key": k})
    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    assert (await event_types(pool, code)).count("OfficerAssigned") == 1


async def test_lost_receipt_response_keeps_the_code(http: httpx.AsyncClient, dev_token: str,
                                                    pool: asyncpg.Pool) -> None:
    """A receive retried after its response was lost answers the same dossier."""
    k, before = key(), await stream_count(pool)
    headers = bearer(dev_token, **{"Idempotency-Key": k})
    first = await http.post("/v1/dossiers", json=receipt_body(), headers=headers)
    await pool.execute("UPDATE api_idempotency SET response = NULL, status_code = NULL "
                       "WHERE key = $1", k)
    second = await http.post("/v1/dossiers", json=receipt_body(), headers=headers)
    assert second.status_code == 201 and second.json()["code"] == first.json()["code"]
    assert await stream_count(pool) == before + 1


async def test_refused_command_frees_its_key(http: httpx.AsyncClient, dev_token: str) -> None:
    """A key whose command was refused (409) may be used again once the state allows it."""
    code, k = (await receive(http, dev_token))["code"], key()
    refused = await act(http, dev_token, code, "start", {}, **{"Idempotency-Key": k})
    assert refused.status_code == 409
    await act(http, dev_token, code, "assign", {"officer": "officer-1"})
    started = await act(http, dev_token, code, "start", {}, **{"Idempotency-Key": k})
    assert started.status_code == 200 and started.json()["state"] == "processing"


async def test_replay_after_the_workflow_closed(http: httpx.AsyncClient, dev_token: str) -> None:
    """A refusal retried with its key after the workflow ended is replayed, not a 409."""
    code, k = (await receive(http, dev_token))["code"], key()
    first = await act(http, dev_token, code, "refuse", {"reason": "x"}, **{"Idempotency-Key": k})
    second = await act(http, dev_token, code, "refuse", {"reason": "x"},
                       **{"Idempotency-Key": k})
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
