"""Issue 24.1: the codec endpoint decodes only what the caller's unit may read. Payloads name
their dossier (bound to the ciphertext), each decoded dossier is audited under its code, and
payloads sealed before they named one are decoded only for a token without a unit."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, Self

import asyncpg
import httpx
import pytest
from cryptography.exceptions import InvalidTag
from google.protobuf import json_format
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client, WorkflowHistory
from temporalio.converter import (
    ActivitySerializationContext,
    DataConverter,
    SerializationContext,
    WorkflowSerializationContext,
)
from temporalio.worker import Replayer

from domain import commands as cmd
from motcua import dossiers
from motcua.app import create_app
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.payload_codec import DOSSIER, UNIT, EncryptionCodec, Keyring, dossier_of
from motcua.temporal import connect
from tests.api.conftest import OTHER_UNIT, MakeToken, act, bearer, receipt_body
from tests.api.test_errors import assert_problem
from tests.conftest import UNIT as OUR_UNIT
from tests.conftest import receipt, settings_for
from tests.engine.test_replay import HISTORIES
from worker import build_worker
from workflows.dossier import DossierWorkflow

pytestmark = pytest.mark.engine

CODE = f"{OUR_UNIT}-261126-0042"
PLAIN = Payload(metadata={"encoding": b"json/plain"}, data=b'{"applicant_phone":"0911"}')


def _sealed(codec: EncryptionCodec, payload: Payload = PLAIN) -> Payload:
    return asyncio.run(codec.encode([payload]))[0]


def test_a_payload_names_its_dossier_and_cannot_be_moved_to_another() -> None:
    """In a workflow's or its activity's context the codec writes the dossier code and unit
    into the metadata and binds them as associated data: the payload opens as it is, but not
    with another dossier's code or unit written over them, nor with them removed; a payload
    sealed before (no dossier, no associated data) still opens."""
    keyring = Keyring.parse(Keyring.generate("k1"))
    shared = EncryptionCodec(keyring)
    for context in (WorkflowSerializationContext(namespace="default", workflow_id=CODE),
                    ActivitySerializationContext(
                        namespace="default", activity_id="1", activity_type="append",
                        activity_task_queue="q", workflow_id=CODE, workflow_type="Dossier",
                        is_local=False)):
        sealed = _sealed(shared.with_context(context))
        assert sealed.metadata[DOSSIER] == CODE.encode()
        assert sealed.metadata[UNIT] == OUR_UNIT.encode()
        assert asyncio.run(shared.decode([sealed])) == [PLAIN]
        claim = dossier_of(sealed)
        assert claim is not None and (claim.code, claim.unit) == (CODE, OUR_UNIT)
        forged = [{DOSSIER: f"{OTHER_UNIT}-261126-0042".encode(), UNIT: OTHER_UNIT.encode()},
                  {DOSSIER: CODE.encode(), UNIT: OTHER_UNIT.encode()},
                  {DOSSIER: CODE.encode()}, {}]
        for claims in forged:
            metadata = {k: v for k, v in sealed.metadata.items() if k not in (DOSSIER, UNIT)}
            moved = Payload(metadata={**metadata, **claims}, data=sealed.data)
            with pytest.raises(InvalidTag):
                asyncio.run(shared.decode([moved]))
    legacy = _sealed(shared)  # no context: as every payload was sealed before issue 24
    assert DOSSIER not in legacy.metadata and dossier_of(legacy) is None
    assert asyncio.run(shared.decode([legacy])) == [PLAIN]


def _payloads(node: Any) -> Iterator[dict[str, Any]]:
    """Every payload (proto3 JSON) anywhere in a history's JSON."""
    if isinstance(node, dict):
        if isinstance(node.get("metadata"), dict) and "encoding" in node["metadata"]:
            yield node
        for value in node.values():
            yield from _payloads(value)
    elif isinstance(node, list):
        for value in node:
            yield from _payloads(value)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.fixture(scope="module")
async def sealed_api(pool: asyncpg.Pool, postgres: EmbeddedPostgres,
                     temporal_server: TemporalDevServer
                     ) -> AsyncIterator[tuple[httpx.AsyncClient, Client, Keyring]]:
    """The API and a worker that encrypt payloads, on their own task queue."""
    keys = Keyring.generate("u1")
    settings = settings_for(postgres, temporal_server, task_queue="motcua-codec-scope"
                            ).model_copy(update={"payload_keys": SecretStr(keys)})
    sealed_client = await connect(settings, interceptors=[])
    async with build_worker(settings, sealed_client, pool) as worker:
        running = asyncio.create_task(worker.run())
        app = create_app(settings, client=sealed_client, pool=pool)
        try:
            async with app.router.lifespan_context(app), httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://motcua.test",
                    timeout=30) as http:
                yield http, sealed_client, Keyring.parse(keys)
        finally:
            await worker.shutdown()
            await running


async def test_every_payload_of_a_dossier_names_it(
        sealed_api: tuple[httpx.AsyncClient, Client, Keyring], make_token: MakeToken) -> None:
    """Through a real receipt and assignment (update-with-start, activities, local
    activities, update results), every encrypted payload in the history names the dossier
    and its unit."""
    http, sealed_client, _ = sealed_api
    clerk = await make_token("clerk", unit=OUR_UNIT)
    leader = await make_token("leader", unit=OUR_UNIT)
    received = await http.post("/v1/dossiers", json=receipt_body(), headers=bearer(clerk))
    assert received.status_code == 201, received.text
    code = received.json()["code"]
    assigned = await act(http, leader, code, "assign", {"officer": "officer-1"})
    assert assigned.status_code == 200, assigned.text
    history = await sealed_client.get_workflow_handle(code).fetch_history()
    found = list(_payloads(json.loads(history.to_json())))
    sealed = [p for p in found if p["metadata"]["encoding"] == _b64("binary/encrypted")]
    assert len(sealed) >= 4, found  # input, update, activity input and result at least
    for payload in sealed:
        assert payload["metadata"].get(DOSSIER) == _b64(code), payload["metadata"]
        assert payload["metadata"].get(UNIT) == _b64(OUR_UNIT), payload["metadata"]


async def test_the_codec_endpoint_decodes_only_the_callers_unit(
        sealed_api: tuple[httpx.AsyncClient, Client, Keyring], make_token: MakeToken,
        pool: asyncpg.Pool) -> None:
    """A clerk, officer or leader of another unit gets 403 and nothing is decoded or
    audited; the unit's clerk gets the payload, audited under the dossier's code; an
    office-wide leader too; rewriting the claim to the caller's unit fails to decrypt (422)."""
    http, sealed_client, _ = sealed_api
    clerk = await make_token("clerk", unit=OUR_UNIT, name=f"cc-{uuid.uuid4().hex[:8]}")
    body = receipt_body(applicant={"name": "Đỗ Thị Lan", "phone": "0977000111"})
    received = await http.post("/v1/dossiers", json=body, headers=bearer(clerk))
    assert received.status_code == 201, received.text
    code = received.json()["code"]
    history = await sealed_client.get_workflow_handle(code).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    payloads = json_format.MessageToDict(started.input)

    for role in ("clerk", "officer", "leader"):
        other = await make_token(role, unit=OTHER_UNIT)
        refused = assert_problem(await http.post("/codec/decode", json=payloads,
                                                 headers=bearer(other)), 403, "forbidden")
        assert code in str(refused["detail"]) and "0977000111" not in str(refused)
    audited = "SELECT count(*) FROM pii_reads WHERE what LIKE 'codec:%' AND dossier_code = $1"
    assert await pool.fetchval(audited, code) == 0

    for caller in (clerk, await make_token("leader")):
        decoded = await http.post("/codec/decode", json=payloads,
                                  headers=bearer(caller, **{"X-Namespace": "default"}))
        assert decoded.status_code == 200, decoded.text
        assert b"0977000111" in base64.b64decode(decoded.json()["payloads"][0]["data"])
    reads = await pool.fetch("SELECT principal, what FROM pii_reads WHERE dossier_code = $1 "
                             "AND what LIKE 'codec:%' ORDER BY id", code)
    assert [r["what"] for r in reads] == ["codec:decode:default"] * 2
    assert reads[0]["principal"].startswith("cc-")

    moved = json.loads(json.dumps(payloads))
    moved["payloads"][0]["metadata"][DOSSIER] = _b64(code.replace(OUR_UNIT, OTHER_UNIT))
    moved["payloads"][0]["metadata"][UNIT] = _b64(OTHER_UNIT)
    assert_problem(await http.post("/codec/decode", json=moved,
                                   headers=bearer(await make_token("clerk", unit=OTHER_UNIT))),
                   422, "invalid-input")


async def test_older_payloads_without_a_dossier_only_for_a_token_without_a_unit(
        sealed_api: tuple[httpx.AsyncClient, Client, Keyring], make_token: MakeToken,
        pool: asyncpg.Pool) -> None:
    """A payload sealed before payloads named their dossier: a unit-scoped clerk gets 403
    saying why (even of its own unit: its dossier cannot be known before decrypting); a
    clerk without a unit gets it, audited under '*' as a legacy decode."""
    http, _, keyring = sealed_api
    legacy = await EncryptionCodec(keyring).encode([PLAIN])
    payloads = json_format.MessageToDict(Payloads(payloads=legacy))
    scoped = await make_token("clerk", unit=OUR_UNIT)
    refused = assert_problem(await http.post("/codec/decode", json=payloads,
                                             headers=bearer(scoped)), 403, "forbidden")
    assert "names no dossier" in str(refused["detail"])
    name = f"office-{uuid.uuid4().hex[:8]}"
    office = await make_token("clerk", name=name)
    decoded = await http.post("/codec/decode", json=payloads,
                              headers=bearer(office, **{"X-Namespace": "default"}))
    assert decoded.status_code == 200, decoded.text
    assert base64.b64decode(decoded.json()["payloads"][0]["data"]) == PLAIN.data
    assert await pool.fetchval("SELECT dossier_code || ' ' || what FROM pii_reads "
                               "WHERE principal = $1", name) == "* codec:decode-legacy:default"


class _BeforeIssue24(EncryptionCodec):
    """The codec as it was: blind to the serialization context, so no dossier is named."""

    def with_context(self, context: SerializationContext) -> Self:
        return self


async def test_a_dossier_sealed_before_goes_on_under_the_new_codec(
        pool: asyncpg.Pool, postgres: EmbeddedPostgres, temporal_server: TemporalDevServer,
        make_token: MakeToken) -> None:
    """A dossier received by a worker that named no dossier in its payloads is taken up by a
    worker of today (a cold cache: it replays the older payloads), which acts on it; its
    history, older and newer payloads mixed, replays on today's converter, and every recorded
    history under tests/replay does too."""
    keys = Keyring.generate("m1")
    settings = settings_for(postgres, temporal_server, task_queue="motcua-codec-migrate"
                            ).model_copy(update={"payload_keys": SecretStr(keys)})
    before = await Client.connect(temporal_server.address, data_converter=dataclasses.replace(
        DataConverter.default, payload_codec=_BeforeIssue24(Keyring.parse(keys))))
    async with build_worker(settings, before, pool) as old_worker, old_worker:
        d = await dossiers.receive(before, receipt(), task_queue=settings.task_queue)
    today = await connect(settings, interceptors=[])
    async with build_worker(settings, today, pool) as new_worker, new_worker:
        await dossiers.act(today, d.code, "assign", cmd.AssignOfficer(officer="officer-9"))
    history = await today.get_workflow_handle(d.code).fetch_history()
    claims = [p["metadata"].get(DOSSIER) for p in _payloads(json.loads(history.to_json()))]
    assert None in claims and _b64(d.code) in claims  # older and newer payloads, mixed
    converter = today.data_converter
    await Replayer(workflows=[DossierWorkflow], data_converter=converter).replay_workflow(
        history)
    for path in sorted(HISTORIES.glob("*.json")):
        recorded = WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8"))
        await Replayer(workflows=[DossierWorkflow], data_converter=converter).replay_workflow(
            recorded)
