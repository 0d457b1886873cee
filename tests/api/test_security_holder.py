"""Issue 24 point 5: only a leader changes a dossier's holder, and only to an active officer
or leader of the dossier's unit (`motcua.services.holders`)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from motcua.access.users import disable_user
from motcua.eventstore.store import read_stream
from tests.api.conftest import OTHER_UNIT, MakeToken, act, bearer, make_officer, receive
from tests.api.test_errors import assert_problem
from tests.conftest import UNIT

pytestmark = pytest.mark.engine


async def _assigned(http: httpx.AsyncClient, pool: asyncpg.Pool, make_token: MakeToken,
                    ) -> tuple[str, str, str, str]:
    """A dossier of UNIT assigned by a unit leader to a fresh officer of UNIT; returns its
    code, the leader's token, the officer's name and a token acting as that officer."""
    clerk = await make_token("clerk", unit=UNIT)
    leader = await make_token("leader", unit=UNIT)
    officer = await make_officer(pool, unit=UNIT)
    officer_token = await make_token("officer", unit=UNIT, name=officer)
    code = (await receive(http, clerk))["code"]
    response = await act(http, leader, code, "assign", {"officer": officer})
    assert response.status_code == 200, response.text
    return code, leader, officer, officer_token


async def test_the_assignee_cannot_hand_the_dossier_on_with_start(
        http: httpx.AsyncClient, pool: asyncpg.Pool, make_token: MakeToken) -> None:
    """`start {"officer": X}` by the assignee is 403 for another unit's officer, a name that
    does not exist and a colleague alike; nothing is recorded; a plain start still works."""
    code, _leader, officer, officer_token = await _assigned(http, pool, make_token)
    elsewhere = await make_officer(pool, unit=OTHER_UNIT)
    colleague = await make_officer(pool, unit=UNIT)
    before = len(await read_stream(pool, code))
    for target in (elsewhere, "no-such-officer", colleague):
        problem = assert_problem(await act(http, officer_token, code, "start",
                                           {"officer": target}), 403, "forbidden")
        assert problem["field"] == "officer"
    assert len(await read_stream(pool, code)) == before
    started = await act(http, officer_token, code, "start", {"officer": officer})
    assert started.status_code == 200, started.text
    assert started.json()["assignee"] == officer


async def test_assign_takes_only_an_active_officer_of_the_unit(
        http: httpx.AsyncClient, pool: asyncpg.Pool, make_token: MakeToken) -> None:
    """A leader's assign to an unknown name, a disabled user, another unit's officer, a clerk
    or a bare API token's name is 422 on `officer`, with one message for all; a colleague of
    the unit and a user of every unit are accepted."""
    code, leader, _officer, _token = await _assigned(http, pool, make_token)
    elsewhere = await make_officer(pool, unit=OTHER_UNIT)
    gone = await make_officer(pool, unit=UNIT)
    await disable_user(pool, gone)
    clerk_user = await make_officer(pool, unit=UNIT, roles=("clerk",))
    token_only = "officer-token-only"
    await make_token("officer", unit=UNIT, name=token_only)
    details = set()
    for target in ("no-such-officer", gone, elsewhere, clerk_user, token_only):
        problem = assert_problem(await act(http, leader, code, "assign", {"officer": target}),
                                 422, "invalid-input")
        assert problem["field"] == "officer"
        details.add(problem["detail"])
    assert len(details) == 1  # the answer does not tell which names exist
    colleague = await make_officer(pool, unit=UNIT)
    assert (await act(http, leader, code, "assign", {"officer": colleague})).status_code == 200
    everywhere = await make_officer(pool)
    moved = await act(http, leader, code, "assign", {"officer": everywhere})
    assert moved.status_code == 200 and moved.json()["assignee"] == everywhere


async def test_a_leader_may_start_it_for_a_colleague_but_not_an_outsider(
        http: httpx.AsyncClient, pool: asyncpg.Pool, make_token: MakeToken) -> None:
    """A leader's `start` naming another officer changes the holder only to one of the unit."""
    code, leader, _officer, _token = await _assigned(http, pool, make_token)
    elsewhere = await make_officer(pool, unit=OTHER_UNIT)
    assert_problem(await act(http, leader, code, "start", {"officer": elsewhere}),
                   422, "invalid-input")
    colleague = await make_officer(pool, unit=UNIT)
    started = await act(http, leader, code, "start", {"officer": colleague})
    assert started.status_code == 200 and started.json()["assignee"] == colleague


async def test_a_refused_state_answers_before_the_officer(
        http: httpx.AsyncClient, pool: asyncpg.Pool, dev_token: str) -> None:
    """On a closed dossier an assign is 409 with the state, whatever the officer's name."""
    code = (await receive(http, dev_token))["code"]
    assert (await act(http, dev_token, code, "stop", {"reason": "Lý do"})).status_code == 200
    late = await http.post(f"/v1/dossiers/{code}/assign", json={"officer": "nobody-at-all"},
                           headers=bearer(dev_token))
    assert_problem(late, 409, "invalid-transition")
