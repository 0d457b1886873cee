"""Issue 22 over HTTP: a dossier of a procedure with an internal procedure shows its steps and
the step it is at; the hand-over is the current step's actor's (or a leader's), the send-back a
leader's with a reason; a procedure without steps keeps its lifecycle."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import httpx
import pytest

from tests.api.conftest import MakeToken, act, bearer, make_officer, receive
from tests.conftest import UNIT

pytestmark = pytest.mark.engine


async def test_steps_and_their_hand_overs(http: httpx.AsyncClient, dev_token: str,
                                          make_token: MakeToken, pool: asyncpg.Pool) -> None:
    """Cao Bằng 2022's 1.004944: seven steps, the first open from the receipt; a clerk hands
    over the counter's step, an officer may not hand over the leader's, the leader assigns
    (the hand-over to the officer) and later sends the draft back with its reason."""
    clerk = await make_token("clerk", unit=UNIT)
    officer = await make_token("officer", unit=UNIT, name="cv-steps")
    await make_officer(pool, "cv-steps", unit=UNIT)  # a holder is an active user (24.5)
    leader = await make_token("leader", unit=UNIT)
    d = await receive(http, clerk, procedure_code="1.004944")
    got = (await http.get(f"/v1/dossiers/{d['code']}", headers=bearer(dev_token))).json()
    assert got["current_step"] == 0 and got["unit_code"] == UNIT
    assert len(got["steps"]) == 7
    first, second = got["steps"][0], got["steps"][1]
    assert {"name", "unit_code", "due_at", "started_at", "ended_at", "timeliness"} <= set(first)
    assert first["due_at"] is not None and first["timeliness"] is None
    assert second["due_at"] is None and second["started_at"] is None
    assert datetime.fromisoformat(first["due_at"]) > datetime.fromisoformat(first["started_at"])

    assert (await act(http, leader, d["code"], "send-back", {"reason": "x"})).status_code == 409
    handed = await act(http, clerk, d["code"], "hand-over", {"note": "đủ hồ sơ"})
    assert handed.status_code == 200, handed.text
    assert handed.json()["current_step"] == 1
    assert handed.json()["steps"][0]["timeliness"] in ("early", "on_time")
    refused = await act(http, officer, d["code"], "hand-over", {})
    assert refused.status_code == 403 and "leader" in refused.text
    assigned = await act(http, leader, d["code"], "assign", {"officer": "cv-steps"})
    assert assigned.json()["current_step"] == 2
    assert assigned.json()["steps"][2]["receiver"] == "cv-steps"
    done = await act(http, officer, d["code"], "hand-over", {})
    assert done.json()["current_step"] == 3
    assert (await act(http, leader, d["code"], "send-back", {"reason": " "})).status_code == 422
    sent = await act(http, leader, d["code"], "send-back", {"reason": "Sửa lại dự thảo"})
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["current_step"] == 2 and body["steps"][2]["runs"] == 2
    assert [r["outcome"] for r in body["step_runs"]][-2:] == ["sent_back", None]
    assert body["step_runs"][-2]["sent_back_reason"] == "Sửa lại dự thảo"
    assert (await act(http, clerk, d["code"], "send-back",
                      {"reason": "x"})).status_code == 403
    # Issue 23's office day: no completion before the approvals and the signature (step 5,
    # the commune's leader): 409, nothing recorded.
    assert (await act(http, officer, d["code"], "start", {})).status_code == 200
    early = await act(http, officer, d["code"], "complete", {"summary": "xong"})
    assert early.status_code == 409 and "after step 5" in early.json()["detail"], early.text
    got = (await http.get(f"/v1/dossiers/{d['code']}", headers=bearer(dev_token))).json()
    assert got["state"] == "processing"


async def test_a_procedure_without_steps_keeps_its_lifecycle(http: httpx.AsyncClient,
                                                             dev_token: str) -> None:
    """No steps, no current step, and no hand-over (409)."""
    d = await receive(http, dev_token)
    got = (await http.get(f"/v1/dossiers/{d['code']}", headers=bearer(dev_token))).json()
    assert got["steps"] == [] and got["current_step"] is None
    assert (await act(http, dev_token, d["code"], "hand-over", {})).status_code == 409
