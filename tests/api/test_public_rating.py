"""Issue 23 item 12, the rule behind the rating screens: the citizen rates from the lookup with
the receipt's secret, once; "not satisfied" needs its reason (nothing recorded without it); a
wrong secret is the same 404 as an unknown code, whatever the body says; and a kiosk rates only
the dossier just returned at its own counter (`motcua.services.counters`)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from motcua.access.limiter import RateLimiter
from motcua.access.tokens import create_token
from motcua.access.users import create_user
from motcua.services import counters
from tests.api.conftest import MakeToken, act, receive
from tests.api.test_errors import assert_problem
from tests.conftest import UNIT

pytestmark = pytest.mark.engine

SATISFIED = {"satisfaction": "satisfied", "comment": "Nhanh chóng"}
NO_REASON = {"satisfaction": "not_satisfied"}
WITH_REASON = {"satisfaction": "not_satisfied", "comment": "Phải đi lại hai lần"}


async def _ready(http: httpx.AsyncClient, token: str) -> tuple[str, str]:
    """A dossier with its result ready to return: (code, lookup secret)."""
    d = await receive(http, token)
    for action, body in (("assign", {"officer": "officer-1"}), ("start", {}),
                         ("complete", {"summary": "Đã giải quyết"})):
        response = await act(http, token, d["code"], action, body)
        assert response.status_code == 200, (action, response.text)
    return d["code"], d["lookup_secret"]


async def _rate(http: httpx.AsyncClient, code: str, secret: str | None,
                body: dict[str, Any]) -> httpx.Response:
    headers = {} if secret is None else {"X-Lookup-Secret": secret}
    return await http.post(f"/v1/public/dossiers/{code}/rating", json=body, headers=headers)


async def _ratings(pool: asyncpg.Pool, code: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT payload->>'satisfaction' AS satisfaction, payload->>'comment' AS comment, "
        "metadata->>'actor' AS actor FROM events "
        "WHERE stream = $1 AND event_type = 'ServiceRated'", code)


async def test_the_citizen_rates_once_with_the_lookup_secret(
        http: httpx.AsyncClient, dev_token: str, pool: asyncpg.Pool, api: FastAPI) -> None:
    api.state.resources.lookup_limiter = RateLimiter()  # a bucket of its own
    code, secret = await _ready(http, dev_token)
    # Not returned yet: nothing to rate.
    assert_problem(await _rate(http, code, secret, SATISFIED), 409, "invalid-transition")
    assert (await act(http, dev_token, code, "return")).status_code == 200
    opened = (await http.get(f"/v1/public/dossiers/{code}",
                             headers={"X-Lookup-Secret": secret})).json()
    assert opened["may_rate"] is True and opened["rated"] is False

    # A wrong, a missing secret and an unknown code answer alike, before the body is read
    # for its reason: nothing tells a real code from an unknown one.
    unknown = f"{code[:-4]}9999"
    refusals = [await _rate(http, code, "AAAA-BBBB-CCCC", NO_REASON),
                await _rate(http, code, None, SATISFIED),
                await _rate(http, unknown, secret, SATISFIED)]
    bodies = [assert_problem(r, 404, "not-found") for r in refusals]
    assert len({(b["detail"], b["title"]) for b in bodies}) == 1
    assert await _ratings(pool, code) == []

    # "Không hài lòng" without its reason: 422 naming `comment`, nothing recorded.
    for body in (NO_REASON, {**NO_REASON, "comment": "   "}):
        problem = assert_problem(await _rate(http, code, secret, body), 422, "invalid-input")
        assert problem["field"] == "comment"
    assert await _ratings(pool, code) == []

    rated = await _rate(http, code, secret, WITH_REASON)
    assert rated.status_code == 200, rated.text
    view = rated.json()
    assert view["rated"] is True and view["may_rate"] is False
    assert "Nguyễn Văn An" not in rated.text  # the public view: no personal data
    stored = await _ratings(pool, code)
    assert len(stored) == 1 and stored[0]["actor"] == "citizen-lookup"
    assert stored[0]["satisfaction"] == "not_satisfied"
    assert stored[0]["comment"] == WITH_REASON["comment"]

    # Once: the citizen again, and the counter after them, are told it was rated.
    assert_problem(await _rate(http, code, secret, SATISFIED), 409, "already-rated")
    assert_problem(await act(http, dev_token, code, "rate", SATISFIED), 409, "already-rated")
    assert len(await _ratings(pool, code)) == 1


async def test_staff_rating_needs_the_reason_too(
        http: httpx.AsyncClient, dev_token: str, pool: asyncpg.Pool) -> None:
    code, _ = await _ready(http, dev_token)
    assert (await act(http, dev_token, code, "return")).status_code == 200
    problem = assert_problem(await act(http, dev_token, code, "rate", NO_REASON), 422,
                             "invalid-input")
    assert problem["field"] == "comment" and await _ratings(pool, code) == []
    assert (await act(http, dev_token, code, "rate", WITH_REASON)).status_code == 200


async def test_a_kiosk_rates_only_the_dossier_just_returned_at_its_counter(
        http: httpx.AsyncClient, dev_token: str, pool: asyncpg.Pool,
        make_token: MakeToken) -> None:
    """Clerk and kiosk of counter 7 (console users; API tokens of the same names act as
    them), a kiosk of counter 8: each kiosk is offered only its own counter's last return."""
    tag = uuid.uuid4().hex[:6]
    names = {"clerk": f"clerk-q7-{tag}", "kiosk": f"kiosk-q7-{tag}",
             "other": f"kiosk-q8-{tag}"}
    for key, counter in (("clerk", "7"), ("kiosk", "7"), ("other", "8")):
        await create_user(pool, username=names[key], password="mat-khau-thu-nghiem-1",
                          roles=["clerk" if key == "clerk" else "kiosk"], unit_code=UNIT,
                          counter=counter)
    tokens = {key: await create_token(pool, name=name, roles=["clerk" if key == "clerk"
                                                               else "kiosk"], unit_code=UNIT)
              for key, name in names.items()}
    first, _ = await _ready(http, dev_token)
    second, _ = await _ready(http, dev_token)
    assert await counters.offered(pool, names["kiosk"]) != first
    assert (await act(http, tokens["clerk"], first, "return")).status_code == 200
    assert await counters.offered(pool, names["kiosk"]) == first
    assert await counters.offered(pool, names["other"]) is None

    # Returned at counter 7 only: the kiosk of counter 8 may not rate it; the kiosk of
    # counter 7 may not rate a dossier returned elsewhere (by the dev token).
    assert_problem(await act(http, tokens["other"], first, "rate", SATISFIED), 403,
                   "forbidden")
    assert (await act(http, dev_token, second, "return")).status_code == 200
    assert_problem(await act(http, tokens["kiosk"], second, "rate", SATISFIED), 403,
                   "forbidden")
    assert_problem(await act(http, tokens["kiosk"], first, "rate", NO_REASON), 422,
                   "invalid-input")
    key = {"Idempotency-Key": f"kiosk-{tag}-form"}
    response = await act(http, tokens["kiosk"], first, "rate", SATISFIED, **key)
    assert response.status_code == 200, response.text
    assert await counters.offered(pool, names["kiosk"]) is None  # rated: offered no more
    # The same form sent again (a double tap) answers the first rating, not a refusal.
    again = await act(http, tokens["kiosk"], first, "rate", SATISFIED, **key)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert len(await _ratings(pool, first)) == 1
    # A kiosk token without a counter (no console user of its name) rates nothing.
    stray = await make_token("kiosk", unit=UNIT)
    assert_problem(await act(http, stray, second, "rate", SATISFIED), 403, "forbidden")
