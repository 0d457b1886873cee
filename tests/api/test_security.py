"""Issue 12: what an attacker or a careless client tried, and the answer each now gets. One test
per point of the issue, on the real stack (in-process API, real Temporal and PostgreSQL)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from cryptography.exceptions import InvalidTag
from fastapi import FastAPI
from google.protobuf import json_format
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from temporalio.client import Client

from domain import commands as cmd
from domain.codes import format_code
from domain.states import Channel
from motcua import dossiers
from motcua import lookup as motcua_lookup
from motcua.access.limiter import RateLimiter
from motcua.access.tokens import create_token
from motcua.app import create_app
from motcua.cli.token import main as token_cli
from motcua.devstack import postgres as postgres_module
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import free_port
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.lookup import normalise
from motcua.payload_codec import EncryptionCodec, Keyring, PayloadKeyError
from motcua.reports.register import register_lines
from motcua.temporal import connect
from tests.api.conftest import (
    OTHER_UNIT,
    MakeToken,
    act,
    bearer,
    print_receipt,
    receipt_body,
    receive,
)
from tests.api.test_errors import assert_problem
from tests.conftest import PROCEDURE, TASK_QUEUE, UNIT, settings_for
from worker import build_worker

pytestmark = pytest.mark.engine

FORMAT_CHARACTERS = ["\u200b", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066",
                     "\u2069", "\ufeff"]


# --- point 5: invisible, bidirectional and line-break characters --------------------------

async def test_format_characters_in_names_are_422_naming_the_field(
        http: httpx.AsyncClient, dev_token: str) -> None:
    """A name or a single-line field holding an invisible or bidi character is refused."""
    for char in FORMAT_CHARACTERS:
        body = receipt_body(applicant={"name": f"Nguyễn{char} Văn An"})
        response = await http.post("/v1/dossiers", json=body, headers=bearer(dev_token))
        assert assert_problem(response, 422, "invalid-input")["field"] == "applicant.name"
        body = receipt_body(applicant={"name": "An", "phone": f"0912{char}345678"})
        response = await http.post("/v1/dossiers", json=body, headers=bearer(dev_token))
        assert assert_problem(response, 422, "invalid-input")["field"] == "applicant.phone"
    body = receipt_body(documents=["Tờ khai", "Giấy\u202echứng sinh"])
    response = await http.post("/v1/dossiers", json=body, headers=bearer(dev_token))
    assert assert_problem(response, 422, "invalid-input")["field"] == "documents.1"


async def test_line_breaks_in_single_line_fields_are_422(http: httpx.AsyncClient,
                                                         dev_token: str) -> None:
    """The officer (a single-line name) may not hold a newline; a multi-line reason may, but
    not a bidi override that reorders it."""
    code = (await receive(http, dev_token))["code"]
    for officer in ("officer-7\nofficer-8", "officer\r7", "officer\u20287", "a\tb"):
        problem = assert_problem(await act(http, dev_token, code, "assign",
                                           {"officer": officer}), 422, "invalid-input")
        assert problem["field"] == "officer"
    problem = assert_problem(await act(http, dev_token, code, "refuse",
                                       {"reason": "Thiếu\u202e giấy tờ"}), 422, "invalid-input")
    assert problem["field"] == "reason"
    ok = await act(http, dev_token, code, "refuse", {"reason": "Thiếu giấy tờ:\n- tờ khai"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["outcome_reason"] == "Thiếu giấy tờ:\n- tờ khai"


# --- point 6: 415 for a body that is not JSON ----------------------------------------------

async def test_body_not_declared_as_json_is_415(http: httpx.AsyncClient, dev_token: str) -> None:
    """text/plain, a form and XML are 415; application/json and +json are read as JSON."""
    payload = json.dumps(receipt_body(applicant={"name": "  "}))
    for content_type in ("text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x", "application/xml"):
        response = await http.post("/v1/dossiers", content=payload,
                                   headers=bearer(dev_token, **{"Content-Type": content_type}))
        assert_problem(response, 415, "unsupported-media-type")
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await http.post("/v1/dossiers", content=payload,
                                   headers=bearer(dev_token, **{"Content-Type": content_type}))
        assert assert_problem(response, 422, "invalid-input")["field"] == "applicant.name"


# --- point 7: malformed Idempotency-Key is 400 ---------------------------------------------

async def test_malformed_idempotency_key_is_400(http: httpx.AsyncClient, dev_token: str) -> None:
    """Spaces, non-ASCII and over-long keys are 400 malformed-request naming the header."""
    for key in ("a b", "khóa", "k" * 256):
        headers = [(b"authorization", f"Bearer {dev_token}".encode()),
                   (b"idempotency-key", key.encode())]
        response = await http.post("/v1/dossiers", json=receipt_body(), headers=headers)
        problem = assert_problem(response, 400, "malformed-request")
        assert problem["field"] == "Idempotency-Key"


# --- point 8: error bodies do not amplify --------------------------------------------------

async def test_error_body_is_capped(http: httpx.AsyncClient, dev_token: str) -> None:
    """A ~59 KB body of unknown keys answers with at most 20 errors, names cut at 100 chars."""
    body = receipt_body(**{f"k{i:05d}" + "x" * 400: 1 for i in range(140)})
    raw = json.dumps(body).encode()
    assert 55_000 < len(raw) < 64 * 1024
    response = await http.post("/v1/dossiers", content=raw,
                               headers=bearer(dev_token, **{"Content-Type": "application/json"}))
    problem = assert_problem(response, 422, "invalid-input")
    assert len(response.content) < 8_000, len(response.content)
    errors = problem["errors"]
    assert isinstance(errors, list) and len(errors) == 20
    assert problem["errors_omitted"] == 120
    assert all(len(e["field"]) <= 100 for e in errors)
    assert len(str(problem["field"])) <= 100


# --- point 9: an extension's appointment is inside office hours on a working day -----------

async def test_extension_outside_office_hours_is_422(http: httpx.AsyncClient,
                                                     dev_token: str) -> None:
    """A Sunday, 03:00 and the lunch break are refused naming new_due_at; 16:30 a week after
    the due time's working day is accepted."""
    d = await receive(http, dev_token)
    due = datetime.fromisoformat(d["due_at"]).astimezone(
        datetime.fromisoformat("2026-01-01T00:00:00+07:00").tzinfo)
    week_later = due.date() + timedelta(days=7)
    sunday = week_later + timedelta(days=(6 - week_later.weekday()) % 7)
    tz = "+07:00"
    for bad in (f"{sunday}T09:00:00{tz}", f"{week_later}T03:00:00{tz}",
                f"{week_later}T12:00:00{tz}", f"{week_later}T19:00:00{tz}"):
        problem = assert_problem(
            await act(http, dev_token, d["code"], "extend",
                      {"reason": "Cần xác minh", "new_due_at": bad}), 422, "invalid-input")
        assert problem["field"] == "new_due_at", bad
    good = await act(http, dev_token, d["code"], "extend",
                     {"reason": "Cần xác minh", "new_due_at": f"{week_later}T16:30:00{tz}"})
    assert good.status_code == 200, good.text


# --- point 10: authenticate before parsing the body ----------------------------------------

async def test_unauthenticated_malformed_body_is_401(http: httpx.AsyncClient) -> None:
    """Without a valid token, malformed JSON, a non-JSON body and an invalid body all get 401
    (nothing about the body is revealed)."""
    for headers in ({}, bearer("mct_unknown"), {"Authorization": "Basic YTpi"}):
        for content, content_type in ((b'{"unit_code": ', "application/json"),
                                      (b"hello", "text/plain"), (b"{}", "application/json")):
            response = await http.post("/v1/dossiers", content=content,
                                       headers={**headers, "Content-Type": content_type})
            assert_problem(response, 401, "unauthorized")
            response = await http.post("/v1/dossiers/000.21.39.H39-261126-0001/assign",
                                       content=content,
                                       headers={**headers, "Content-Type": content_type})
            assert_problem(response, 401, "unauthorized")


# --- point 11: server-level rejections are documented --------------------------------------

async def test_server_level_text_plain_answers_are_documented(http: httpx.AsyncClient) -> None:
    """The OpenAPI description says which requests the HTTP server answers with text/plain."""
    description = (await http.get("/openapi.json")).json()["info"]["description"]
    assert "text/plain" in description and "Content-Length" in description


# --- point 12: the embedded PostgreSQL from a private (0700) folder ------------------------

def test_embedded_postgres_starts_from_a_private_folder_without_loosening_it() -> None:
    """From a `mktemp -d` folder (0700) inside another 0700 folder, PostgreSQL starts and
    answers SQL, and neither folder's mode changes. As root, the server runs as the
    unprivileged user on a cluster under the stack's own runtime folder (binaries copied
    there, world-readable); as anyone else it runs as the caller, with the cluster in place."""
    outer = Path(tempfile.mkdtemp(prefix="motcua-private-"))
    inner = Path(tempfile.mkdtemp(dir=outer))
    before = {p: stat.S_IMODE(p.stat().st_mode) for p in (outer, inner)}
    assert set(before.values()) == {0o700}
    server = EmbeddedPostgres(inner / "pg", free_port())
    try:
        server.start()
        psql = [str(postgres_module._bin_dir() / "psql"), "-h", "127.0.0.1", "-p",
                str(server.port), "-U", "postgres", "-d", "motcua", "-tAc",
                "SELECT current_setting('data_directory')"]
        answer = subprocess.run(psql, capture_output=True, check=True, text=True).stdout.strip()
        assert Path(answer) == server.data_dir
        assert {p: stat.S_IMODE(p.stat().st_mode) for p in (outer, inner)} == before
        assert server.proc is not None
        owner = Path(f"/proc/{server.proc.pid}").stat().st_uid
        if os.geteuid() == 0:
            assert owner == pwd.getpwnam(postgres_module.SYSTEM_USER).pw_uid
            assert (inner / "pg").is_symlink()
            assert server.data_dir.parent == postgres_module.RUNTIME_DIR / "data"
            assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700
            binary = postgres_module._bin_dir() / "postgres"
            assert postgres_module.RUNTIME_DIR in binary.parents
            assert binary.stat().st_mode & 0o005 == 0o005
        else:
            assert owner == os.geteuid()
            assert server.data_dir == (inner / "pg").resolve()
    finally:
        server.destroy()
        shutil.rmtree(outer, ignore_errors=True)
    assert not (inner / "pg").exists() and not server.data_dir.exists()


# --- point 4: the public lookup needs the receipt's secret, and is rate-limited ------------

async def test_public_lookup_needs_the_secret_printed_on_the_receipt(
        http: httpx.AsyncClient, dev_token: str, pool: asyncpg.Pool, client: Client,
        api: FastAPI) -> None:
    """Without the printed secret, a real code answers exactly like an unknown one; the
    secret opens it (in any case, with or without dashes); a reprint voids the old secret;
    the secret is in no event and nowhere in Temporal history; the date, not the time."""
    # A bucket of its own: the session's other tests look up from the same client address.
    api.state.resources.lookup_limiter = RateLimiter()
    d = await receive(http, dev_token, applicant={"name": "Lê Văn Cường"})
    code = d["code"]
    unknown = f"{code[:-4]}9999"

    async def lookup(dossier: str, secret: str | None) -> httpx.Response:
        headers = {} if secret is None else {"X-Lookup-Secret": secret}
        return await http.get(f"/v1/public/dossiers/{dossier}", headers=headers)

    def problem_of(response: httpx.Response) -> dict[str, object]:
        return assert_problem(response, 404, "not-found")

    no_secret = problem_of(await lookup(code, None))
    secret = await print_receipt(http, dev_token, code)
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", secret)
    wrong = problem_of(await lookup(code, "AAAA-AAAA-AAAA"))
    missing = problem_of(await lookup(unknown, secret))
    assert no_secret == wrong == missing
    opened = await lookup(code, secret.lower().replace("-", " "))
    assert opened.status_code == 200, opened.text
    assert opened.json()["received_on"] is not None and "received_at" not in opened.json()
    assert "T" not in opened.json()["received_on"]

    reprinted = await print_receipt(http, dev_token, code)
    assert reprinted != secret
    problem_of(await lookup(code, secret))
    assert (await lookup(code, reprinted)).status_code == 200

    stored = await pool.fetchval("SELECT secret_hash FROM dossier_lookup WHERE dossier_code = $1",
                                 code)
    assert stored == motcua_lookup.secret_hash(reprinted) and reprinted not in stored
    events = await pool.fetch("SELECT payload::text AS data FROM events WHERE stream = $1",
                              code)
    assert events and not any(normalise(reprinted) in e["data"] for e in events)
    history = await client.get_workflow_handle(code).fetch_history()
    raw = history.to_json()
    assert normalise(secret) not in raw and normalise(reprinted) not in raw
    assert motcua_lookup.lookup_url(code, reprinted, "https://x.gov.vn") == \
        f"https://x.gov.vn/tra-cuu#{code}.{normalise(reprinted)}"


async def test_public_lookup_is_rate_limited_per_client(http: httpx.AsyncClient,
                                                        api: FastAPI) -> None:
    """Past the per-client budget the lookup answers 429 with Retry-After, for any code."""
    resources = api.state.resources
    saved = resources.lookup_limiter
    resources.lookup_limiter = RateLimiter(per_minute=6, burst=3)
    try:
        codes = [f"000.21.39.H39-261126-{n:04d}" for n in range(1, 6)]
        answers = [await http.get(f"/v1/public/dossiers/{c}",
                                  headers={"X-Lookup-Secret": "AAAA-AAAA-AAAA"}) for c in codes]
        assert [a.status_code for a in answers] == [404, 404, 404, 429, 429]
        limited = assert_problem(answers[3], 429, "too-many-requests")
        assert limited["detail"]
        assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
    finally:
        resources.lookup_limiter = saved


def test_rate_limiter_refills() -> None:
    """Pure: the bucket refills at the configured rate and forgets old clients."""
    limiter = RateLimiter(per_minute=60, burst=2, max_clients=2)
    assert limiter.check("a", now=0) is None and limiter.check("a", now=0) is None
    assert limiter.check("a", now=0) == 1
    assert limiter.check("a", now=1.0) is None
    limiter.check("b", now=1.0)
    limiter.check("c", now=1.0)
    assert "a" not in limiter._buckets


# --- point 3: personal data by role, audited; encrypted in Temporal ------------------------

async def test_ops_sees_a_redacted_view_and_no_documents(
        http: httpx.AsyncClient, make_token: MakeToken, pool: asyncpg.Pool) -> None:
    """ops: no name, phone, ID number, e-mail, address or free text, and 403 on documents;
    the unit's clerk sees them, and each of the clerk's reads is in the audit table."""
    clerk_name = f"clerk-{uuid.uuid4().hex[:8]}"
    clerk = await make_token("clerk", unit=UNIT, name=clerk_name)
    leader = await make_token("leader", unit=UNIT)
    ops = await make_token("ops")
    personal = {"name": "Phạm Thị Dung", "phone": "0911222333", "id_number": "079190001234",
                "email": "dung@example.vn", "address": "12 Lý Thường Kiệt"}
    d = await receive(http, clerk, applicant=personal)
    code = d["code"]
    refused = await act(http, leader, code, "refuse", {"reason": "Bà Dung chưa đủ tuổi"})
    assert refused.status_code == 200, refused.text

    seen = await http.get(f"/v1/dossiers/{code}", headers=bearer(ops))
    assert seen.status_code == 200, seen.text
    for value in (*personal.values(), "Bà Dung"):
        assert value not in seen.text, value
    assert seen.json()["applicant_name"] == "***"
    assert seen.json()["state"] == "refused" and seen.json()["timeline"]
    for kind in ("receipt", "refusal", "process-control"):
        assert_problem(await http.get(f"/v1/dossiers/{code}/documents/{kind}",
                                      headers=bearer(ops)), 403, "forbidden")
    assert await pool.fetchval("SELECT count(*) FROM pii_reads WHERE dossier_code = $1 AND "
                               "'ops' = ANY(roles)", code) == 0

    before = await pool.fetchval("SELECT now()")
    full = await http.get(f"/v1/dossiers/{code}", headers=bearer(clerk))
    assert "0911222333" in full.text and full.json()["applicant_name"] == "Phạm Thị Dung"
    doc = await http.get(f"/v1/dossiers/{code}/documents/refusal", headers=bearer(clerk))
    assert doc.status_code == 200
    reads = await pool.fetch("SELECT principal, what, at FROM pii_reads WHERE dossier_code = $1 "
                             "AND at >= $2 ORDER BY id", code, before)
    assert [r["what"] for r in reads] == ["detail", "document:refusal"]
    assert {r["principal"] for r in reads} == {clerk_name}


async def test_audit_of_reads_is_append_only(pool: asyncpg.Pool) -> None:
    """Nobody rewrites the audit: UPDATE, DELETE and TRUNCATE are refused by the database."""
    await pool.execute("INSERT INTO pii_reads (principal, roles, dossier_code, what) "
                       "VALUES ('x', '{clerk}', 'c', 'detail')")
    for statement in ("UPDATE pii_reads SET principal = 'y'", "DELETE FROM pii_reads",
                      "TRUNCATE pii_reads"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute(statement)


def test_codec_seals_opens_rotates_and_passes_plain_payloads() -> None:
    """Pure: AES-GCM round trip with the key id in the metadata; an old key still opens after
    rotation; unencrypted payloads (recorded histories) pass through; tampering is caught;
    malformed key settings are refused."""
    old, new = Keyring.generate("k1"), Keyring.generate("k2")
    before = EncryptionCodec(Keyring.parse(old))
    after = EncryptionCodec(Keyring.parse(f"{new},{old}"))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"applicant_phone":"0911"}')
    sealed = asyncio.run(before.encode([plain]))[0]
    assert b"0911" not in sealed.SerializeToString()
    assert sealed.metadata["encryption-key-id"] == b"k1"
    assert asyncio.run(after.decode([sealed, plain])) == [plain, plain]
    assert asyncio.run(after.encode([plain]))[0].metadata["encryption-key-id"] == b"k2"
    tampered = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + b"x")
    with pytest.raises(InvalidTag):
        asyncio.run(after.decode([tampered]))
    for bad in ("", "k1", "k1:notbase64!", "k1:" + "A" * 8, f"{old},{old}"):
        with pytest.raises(PayloadKeyError):
            Keyring.parse(bad)


async def test_personal_data_is_encrypted_in_temporal_history(
        client: Client, pool: asyncpg.Pool, postgres: EmbeddedPostgres,
        temporal_server: TemporalDevServer, make_token: MakeToken) -> None:
    """With MOTCUA_PAYLOAD_KEYS set, a dossier received through the API leaves no personal
    data readable in Temporal's history nor in its stored idempotency response (which still
    replays the same); the codec endpoint decodes it for a clerk (audited), refuses ops (403)
    and anonymous callers (401)."""
    keys = Keyring.generate("t1")
    settings = settings_for(postgres, temporal_server, task_queue="motcua-codec").model_copy(
        update={"payload_keys": SecretStr(keys)})
    sealed_client = await connect(settings, interceptors=[])
    async with build_worker(settings, sealed_client, pool) as worker:
        running = asyncio.create_task(worker.run())
        app = create_app(settings, client=sealed_client, pool=pool)
        try:
            async with app.router.lifespan_context(app), httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://motcua.test",
                    timeout=30) as http:
                clerk = await make_token("clerk")
                body = receipt_body(applicant={"name": "Võ Thị Hạnh", "phone": "0933444555",
                                               "id_number": "079188001111"})
                k = f"sealed-{uuid.uuid4().hex[:8]}"
                response = await http.post("/v1/dossiers", json=body,
                                           headers=bearer(clerk, **{"Idempotency-Key": k}))
                assert response.status_code == 201, response.text
                code = response.json()["code"]
                stored = await pool.fetchval(
                    "SELECT response::text FROM api_idempotency WHERE key = $1", k)
                assert "0933444555" not in stored and "sealed" in json.loads(stored)
                again = await http.post("/v1/dossiers", json=body,
                                        headers=bearer(clerk, **{"Idempotency-Key": k}))
                assert again.headers["Idempotent-Replayed"] == "true"
                assert again.json() == response.json()
                history = await client.get_workflow_handle(code).fetch_history()
                raw = history.to_json()
                for secret in ("0933444555", "079188001111", "Hạnh", "H\\u1ea1nh"):
                    assert secret not in raw, secret
                started = history.events[0].workflow_execution_started_event_attributes
                payloads = json_format.MessageToDict(started.input)
                assert payloads["payloads"][0]["metadata"]["encoding"] == \
                    base64.b64encode(b"binary/encrypted").decode()

                decoded = await http.post("/codec/decode", json=payloads,
                                          headers=bearer(clerk, **{"X-Namespace": "default"}))
                assert decoded.status_code == 200, decoded.text
                data = base64.b64decode(decoded.json()["payloads"][0]["data"])
                assert b"0933444555" in data
                assert decoded.headers["access-control-allow-origin"] == "*"
                ops = await make_token("ops")
                assert_problem(await http.post("/codec/decode", json=payloads,
                                               headers=bearer(ops)), 403, "forbidden")
                assert_problem(await http.post("/codec/decode", json=payloads), 401,
                               "unauthorized")
                assert await pool.fetchval(
                    "SELECT count(*) FROM pii_reads WHERE what = 'codec:decode:default'") >= 1
        finally:
            await worker.shutdown()
            await running


# --- tokens: optional expiry and last use -------------------------------------------------

async def test_token_expiry_and_last_use(pool: asyncpg.Pool, http: httpx.AsyncClient,
                                         postgres: EmbeddedPostgres,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """An expired token is 401 like a revoked one; a used token shows its last use in
    `motcua token list`, an unused one "never used"; --expires-in-days sets the expiry."""
    suffix = uuid.uuid4().hex[:6]
    past = await create_token(pool, name=f"old-{suffix}", roles=["clerk"],
                              expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert_problem(await http.get("/v1/units", headers=bearer(past)), 401, "unauthorized")
    assert_problem(await http.post("/v1/dossiers", json=receipt_body(), headers=bearer(past)),
                   401, "unauthorized")
    monkeypatch.setenv("DATABASE_URL", postgres.dsn)
    capsys.readouterr()  # the request log lines so far
    assert await asyncio.to_thread(token_cli, ["create", "--name", f"soon-{suffix}", "--role",
                                               "ops", "--expires-in-days", "3"]) == 0
    soon = capsys.readouterr().out.strip()
    assert (await http.get("/v1/units", headers=bearer(soon))).status_code == 200
    expires, used = await pool.fetchrow(
        "SELECT expires_at, last_used_at FROM api_tokens WHERE name = $1", f"soon-{suffix}")
    assert timedelta(days=2, hours=23) < expires - datetime.now(UTC) <= timedelta(days=3)
    assert used is not None and datetime.now(UTC) - used < timedelta(minutes=1)
    capsys.readouterr()
    assert await asyncio.to_thread(token_cli, ["list"]) == 0
    listing = {line.split("\t")[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "expired" in listing[f"old-{suffix}"] and "never used" in listing[f"old-{suffix}"]
    assert "expires " in listing[f"soon-{suffix}"]
    assert "last used " in listing[f"soon-{suffix}"]


# --- points 1 and 2: racing retries, and receipt numbers without gaps ----------------------

async def test_racing_retries_of_a_refused_command_never_answer_500(
        http: httpx.AsyncClient, dev_token: str) -> None:
    """Twenty parallel identical requests with one key, for a command the engine refuses
    (start on an unassigned dossier; assign on a missing dossier), over several rounds: each
    answers the refusal or 409 "in progress" with Retry-After — never a 500."""
    code = (await receive(http, dev_token))["code"]
    missing = f"{code[:-4]}9998"
    seen: set[tuple[int, str]] = set()
    for round_ in range(6):
        for target, action, body in ((code, "start", {}),
                                     (missing, "assign", {"officer": "officer-1"})):
            k = f"race-{round_}-{action}-{uuid.uuid4().hex[:6]}"
            responses = await asyncio.gather(*[
                act(http, dev_token, target, action, body, **{"Idempotency-Key": k})
                for _ in range(20)])
            for r in responses:
                assert r.status_code < 500, r.text
                seen.add((r.status_code, r.json()["type"].rsplit("/", 1)[-1]))
                if r.json()["type"].endswith("/request-in-progress"):
                    assert int(r.headers["Retry-After"]) >= 1
    assert seen <= {(409, "invalid-transition"), (404, "not-found"),
                    (409, "request-in-progress")}, seen
    assert (409, "invalid-transition") in seen and (404, "not-found") in seen


async def test_concurrent_receipts_leave_the_register_without_gaps(
        http: httpx.AsyncClient, dev_token: str, pool: asyncpg.Pool, api: FastAPI,
        client: Client) -> None:
    """Concurrent receipts of one unit — keys sent three times at once, twenty at once with
    one key, receipts without a key, invalid ones with and without a key, and one whose number
    the engine refuses — leave the day's register numbered 1..k without a gap: one number per
    distinct valid request, the refused one struck through (void, with the reason), and no
    number for a duplicate or an invalid request."""
    unit = OTHER_UNIT
    day = api.state.resources.calendar.local(datetime.now(UTC)).date()
    last = await pool.fetchval("SELECT last_value FROM dossier_sequences "
                               "WHERE unit_code = $1 AND day = $2", unit, day) or 0
    # A dossier that reached the engine by another road holds the number the register will
    # hand out third: the engine refuses that receipt ("already received").
    taken = format_code(unit, day, last + 3)
    await dossiers.receive(client, cmd.ReceiveDossier(
        code=taken, unit_code=unit, procedure_code=PROCEDURE, channel=Channel.COUNTER,
        applicant_name="Đỗ Văn Giang", actor="import"), task_queue=TASK_QUEUE)

    good = receipt_body(unit_code=unit)
    invalid = [receipt_body(unit_code=unit, procedure_code="9.999999"),
               receipt_body(unit_code=unit, applicant={"name": "A\u200bB"}),
               receipt_body(unit_code=unit, channel="pigeon")]

    def post(body: dict[str, object], k: str | None) -> Awaitable[httpx.Response]:
        headers = bearer(dev_token, **({"Idempotency-Key": k} if k else {}))
        return http.post("/v1/dossiers", json=body, headers=headers)

    keys = [f"reg-{uuid.uuid4().hex[:8]}" for _ in range(6)]
    one_key = f"reg-twenty-{uuid.uuid4().hex[:8]}"
    requests = [post(good, k) for k in keys for _ in range(3)]
    requests += [post(good, one_key) for _ in range(20)]
    requests += [post(good, None) for _ in range(6)]
    requests += [post(b, k) for b in invalid for k in (None, f"bad-{uuid.uuid4().hex[:8]}")]
    responses = await asyncio.gather(*requests)
    statuses = [r.status_code for r in responses]
    assert all(s in (201, 409, 422) for s in statuses), statuses
    assert statuses[-6:] == [422] * 6

    lines = await register_lines(pool, unit, day)
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    new = [line for line in lines if line["seq"] > last]
    distinct = len(keys) + 1 + 6  # one number per distinct valid request
    assert len(new) == distinct, [(line["seq"], line["status"]) for line in new]
    assert await pool.fetchval("SELECT last_value FROM dossier_sequences WHERE unit_code = $1 "
                               "AND day = $2", unit, day) == last + distinct
    void = [line for line in new if line["status"] == "void"]
    assert [line["dossier_code"] for line in void] == [taken]
    assert "already received" in void[0]["void_reason"]
    assert {line["status"] for line in new if line["dossier_code"] != taken} == {"received"}
    created = {r.json()["code"] for r in responses if r.status_code == 201}
    assert created == {line["dossier_code"] for line in new} - {taken}


@pytest.mark.skipif(os.geteuid() != 0, reason="clusters live outside the data folder only as root")
def test_clusters_whose_data_folder_was_deleted_are_swept() -> None:
    """As root the cluster lives in our runtime folder; once its data folder is deleted (a
    test session's temporary folder) and its server stopped, the next start removes it, so
    /var/tmp does not fill up with orphans."""
    first_dir = Path(tempfile.mkdtemp(prefix="motcua-orphan-"))
    first = EmbeddedPostgres(first_dir / "pg", free_port())
    first.start()
    first.stop()
    orphan = first.data_dir
    assert orphan.is_dir() and orphan.with_suffix(".link").exists()
    shutil.rmtree(first_dir)
    second_dir = Path(tempfile.mkdtemp(prefix="motcua-orphan-"))
    second = EmbeddedPostgres(second_dir / "pg", free_port())
    try:
        second.init()
        assert not orphan.exists() and not orphan.with_suffix(".link").exists()
        assert second.data_dir.is_dir() and (second.data_dir / "PG_VERSION").exists()
    finally:
        second.destroy()
        shutil.rmtree(second_dir, ignore_errors=True)


def test_complaints_are_personal_data_for_redaction() -> None:
    """A complaint names its author and carries their words: ops sees neither, nor the
    channel, which staff type freely (issue 24.9)."""
    from motcua.access.privacy import REDACTED, _redact_data

    data = {"complainant": "Trần Thị B", "channel": "hotline", "text": "Chậm trả kết quả",
            "outcome": "Đã trả lời công dân"}
    shown = _redact_data("ComplaintRecorded", data)
    assert shown == {"complainant": REDACTED, "channel": REDACTED, "text": REDACTED,
                     "outcome": REDACTED}
