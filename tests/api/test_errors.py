"""Every failure is an RFC 9457 problem with a stable type, the right status and the field."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.conftest import act, bearer, receipt_body, receive

pytestmark = pytest.mark.engine

P = "https://motcua.dev/problems/"


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["type"] == P + slug and body["status"] == status
    assert body["title"] and body["detail"]
    return body


async def test_missing_and_bad_tokens_are_401(http: httpx.AsyncClient) -> None:
    """No token, a malformed one and an unknown one are 401 with WWW-Authenticate."""
    for headers in ({}, {"Authorization": "Basic abc"}, bearer("mct_nope"), bearer("x" * 500)):
        response = await http.get("/v1/dossiers", headers=headers)
        assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_dossier_is_404(http: httpx.AsyncClient, dev_token: str) -> None:
    """An unknown or malformed code is 404 for reads and actions alike."""
    for code in ("000.21.39.H39-200101-9999", "not-a-code", "%00"):
        assert_problem(await http.get(f"/v1/dossiers/{code}", headers=bearer(dev_token)),
                       404, "not-found")
        assert_problem(await act(http, dev_token, code, "assign", {"officer": "a"}),
                       404, "not-found")


async def test_forbidden_transition_is_409_with_state(http: httpx.AsyncClient,
                                                      dev_token: str) -> None:
    """complete on a received dossier is 409 invalid-transition naming the current state."""
    code = (await receive(http, dev_token))["code"]
    body = assert_problem(await act(http, dev_token, code, "complete", {"summary": "x"}),
                          409, "invalid-transition")
    assert body["state"] == "received"


async def test_invalid_input_names_the_field(http: httpx.AsyncClient, dev_token: str) -> None:
    """Missing, malformed and unknown-catalog fields are 422 naming the field."""
    cases = [
        (receipt_body(unit_code="999.99.99.X99"), "unit_code"),
        (receipt_body(procedure_code="9.999999"), "procedure_code"),
        (receipt_body(channel="pigeon"), "channel"),
        (receipt_body(applicant={"name": "   "}), "applicant.name"),
        (receipt_body(applicant={"name": "A\x00B"}), "applicant.name"),
        (receipt_body(applicant={"name": "\ud800"}), "applicant.name"),
        (receipt_body(original_received_at="2026-01-01T00:00:00"), "original_received_at"),
        (receipt_body(extra="x"), "extra"),
        ({k: v for k, v in receipt_body().items() if k != "applicant"}, "applicant"),
    ]
    for body, field in cases:
        response = await http.post(  # json.dumps escapes the lone surrogate as \\ud800
            "/v1/dossiers", content=json.dumps(body).encode(),
            headers=bearer(dev_token, **{"Content-Type": "application/json"}))
        problem = assert_problem(response, 422, "invalid-input")
        assert problem["field"] == field, (field, problem)


async def test_engine_rule_is_422_invalid_command(http: httpx.AsyncClient,
                                                  dev_token: str) -> None:
    """An extension not later than the due time is refused by the domain with its field."""
    d = await receive(http, dev_token)
    body = assert_problem(await act(http, dev_token, d["code"], "extend",
                                    {"reason": "x", "new_due_at": d["due_at"]}),
                          422, "invalid-command")
    assert body["field"] == "new_due_at"


async def test_malformed_json_is_400(http: httpx.AsyncClient, dev_token: str) -> None:
    """A body that is not JSON is 400 malformed-request."""
    response = await http.post("/v1/dossiers", content=b'{"unit_code": ',
                               headers=bearer(dev_token, **{"Content-Type": "application/json"}))
    assert_problem(response, 400, "malformed-request")


async def test_oversized_body_is_413(http: httpx.AsyncClient, dev_token: str) -> None:
    """A body over 64 KiB is refused with 413, whether announced or streamed."""
    big = receipt_body(documents=["x" * 300] * 250)
    response = await http.post("/v1/dossiers", json=big, headers=bearer(dev_token))
    assert_problem(response, 413, "payload-too-large")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 1024

    streamed = await http.post("/v1/dossiers", content=chunks(),
                               headers=bearer(dev_token, **{"Content-Type": "application/json"}))
    assert_problem(streamed, 413, "payload-too-large")


async def test_bad_idempotency_key_and_cursor(http: httpx.AsyncClient, dev_token: str) -> None:
    """An Idempotency-Key with spaces is 400 (malformed request), a forged cursor 422, both
    naming the input."""
    response = await http.post("/v1/dossiers", json=receipt_body(),
                               headers=bearer(dev_token, **{"Idempotency-Key": "a b"}))
    assert assert_problem(response, 400, "malformed-request")["field"] == "Idempotency-Key"
    response = await http.get("/v1/dossiers", params={"cursor": "!!"},
                              headers=bearer(dev_token))
    assert assert_problem(response, 422, "invalid-input")["field"] == "cursor"


async def test_unknown_route_and_method(http: httpx.AsyncClient, dev_token: str) -> None:
    """An unknown path is a 404 problem; a wrong method a 405 problem."""
    assert_problem(await http.get("/v1/nope", headers=bearer(dev_token)), 404, "not-found")
    assert_problem(await http.delete("/v1/dossiers", headers=bearer(dev_token)), 405,
                   "method-not-allowed")


async def test_body_that_is_not_json_is_refused(http: httpx.AsyncClient, dev_token: str) -> None:
    """A form or text body where JSON is expected is a 4xx problem, never a 500."""
    code = (await receive(http, dev_token))["code"]
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = await http.post(f"/v1/dossiers/{code}/assign", content=b"officer=x",
                                   headers=bearer(dev_token, **{"Content-Type": content_type}))
        assert response.status_code in (400, 415, 422), response.text
        assert response.headers["content-type"] == "application/problem+json"


async def test_dates_outside_the_office_calendar_are_422(http: httpx.AsyncClient,
                                                         dev_token: str) -> None:
    """A receipt or an appointment outside the calendar's years is refused up front (the
    engine would otherwise retry its deadline computation for ever)."""
    old = receipt_body(original_received_at="2000-01-01T01:02:03Z")
    response = await http.post("/v1/dossiers", json=old, headers=bearer(dev_token))
    assert assert_problem(response, 422, "invalid-input")["field"] == "original_received_at"
    code = (await receive(http, dev_token))["code"]
    far = await act(http, dev_token, code, "extend",
                    {"reason": "x", "new_due_at": "2099-06-01T17:00:00+07:00"})
    assert assert_problem(far, 422, "invalid-input")["field"] == "new_due_at"


async def test_deeply_nested_json_is_a_client_error(http: httpx.AsyncClient,
                                                    dev_token: str) -> None:
    """JSON nested beyond the parser's depth, or a body of the wrong shape, is a 4xx."""
    headers = bearer(dev_token, **{"Content-Type": "application/json"})
    for content in (b"[" * 30000 + b"]" * 30000, b"[]", b'"x"', b"null"):
        response = await http.post("/v1/dossiers", content=content, headers=headers)
        assert response.status_code in (400, 422), response.text
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_bug_is_a_bare_500_problem(http: httpx.AsyncClient, dev_token: str,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception answers a 500 problem with the correlation id, no traceback."""
    from motcua.api.routes import catalog

    def broken(unit: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(catalog, "_unit", broken)
    response = await http.get("/v1/units", headers=bearer(dev_token))
    body = assert_problem(response, 500, "internal-error")
    assert response.headers["X-Correlation-Id"] in str(body["detail"])
    assert "secret" not in response.text and "Traceback" not in response.text
