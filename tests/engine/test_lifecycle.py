"""A dossier through every path of its lifecycle, on a real Temporal server and PostgreSQL."""

from __future__ import annotations

import asyncpg
import pytest
from temporalio.client import Client

from domain import commands as cmd
from domain.states import DossierState, Satisfaction, Timeliness
from motcua import dossiers
from tests.conftest import Receive
from tests.engine.helpers import assert_stream_sound

pytestmark = pytest.mark.engine


async def test_happy_path_received_to_returned(client: Client, pool: asyncpg.Pool,
                                               receive: Receive) -> None:
    """Receive, assign, start, complete, return and rate: every step stored once, in order."""
    d = await receive()
    assert d.state is DossierState.RECEIVED and d.due_at is not None
    assert d.calendar_version and d.catalog_version and d.deadline_version == 1
    code = d.code
    d = await dossiers.act(client, code, "assign", cmd.AssignOfficer(officer="officer-7",
                                                                   actor="leader-1"))
    assert d.state is DossierState.ASSIGNED and d.assignee == "officer-7"
    d = await dossiers.act(client, code, "start", cmd.StartProcessing(actor="officer-7"))
    assert d.state is DossierState.PROCESSING
    d = await dossiers.act(client, code, "complete",
                           cmd.CompleteProcessing(summary="Đã cấp giấy khai sinh"))
    assert d.state is DossierState.READY and d.timeliness is Timeliness.EARLY
    d = await dossiers.act(client, code, "return", cmd.ReturnResult(actor="clerk-1"))
    assert d.state is DossierState.RETURNED
    d = await dossiers.act(client, code, "rate",
                           cmd.RateService(satisfaction=Satisfaction.VERY_SATISFIED))
    types = await assert_stream_sound(pool, code, d)
    assert types == ["DossierReceived", "DeadlineSet", "OfficerAssigned", "ProcessingStarted",
                     "ResultReady", "ResultReturned", "ServiceRated"]
    result = await client.get_workflow_handle(code).result()
    assert result["state"] == "returned"
    rows = await pool.fetch("SELECT metadata->>'actor' AS actor FROM events WHERE stream = $1 "
                            "ORDER BY position", code)
    assert [r["actor"] for r in rows][:4] == ["clerk-1", "clerk-1", "leader-1", "officer-7"]


async def test_refusal_closes_the_dossier(client: Client, pool: asyncpg.Pool,
                                          receive: Receive) -> None:
    """A refused dossier is closed with its reason and its workflow ends."""
    d = await receive()
    d = await dossiers.act(client, d.code, "refuse",
                           cmd.RefuseDossier(reason="Không thuộc thẩm quyền"))
    assert d.state is DossierState.REFUSED and d.outcome_reason == "Không thuộc thẩm quyền"
    assert await assert_stream_sound(pool, d.code, d) == [
        "DossierReceived", "DeadlineSet", "DossierRefused"]
    await client.get_workflow_handle(d.code).result()


async def test_withdrawal_is_judged_by_its_date_then_stopped(client: Client, pool: asyncpg.Pool,
                                                              receive: Receive) -> None:
    """A withdrawal is an end of processing judged by its date (Decision 766 as written: end <=
    appointment; before the due date it is early) and is followed by the stop notice
    (Circular 03/2025 art. 7: code 7, then 8). Issue 11 points 6 and 8; this test pinned
    "always on time" and a final WITHDRAWN state before, which was wrong."""
    d = await receive()
    await dossiers.act(client, d.code, "assign", cmd.AssignOfficer(officer="officer-1"))
    d = await dossiers.act(client, d.code, "withdraw",
                           cmd.WithdrawDossier(reason="Công dân xin rút"))
    assert d.state is DossierState.STOPPED and d.state.status_code == 8
    assert d.timeliness is Timeliness.EARLY and d.outcome_reason == "Công dân xin rút"
    await assert_stream_sound(pool, d.code, d)


async def test_supplement_loop_pauses_and_moves_the_deadline(client: Client, pool: asyncpg.Pool,
                                                             receive: Receive) -> None:
    """Requesting a supplement pauses the clock; receiving it sets a new deadline version
    that is never earlier than the first; a second request in processing marks it late."""
    d = await receive()
    first_due = d.due_at
    assert first_due is not None
    await dossiers.act(client, d.code, "assign", cmd.AssignOfficer(officer="officer-2"))
    await dossiers.act(client, d.code, "start", cmd.StartProcessing())
    d = await dossiers.act(client, d.code, "request-supplement",
                           cmd.RequestSupplement(reason="Thiếu bản sao CCCD"))
    assert d.state is DossierState.AWAITING_SUPPLEMENT and d.paused_at is not None
    d = await dossiers.act(client, d.code, "supplement", cmd.ProvideSupplement())
    assert d.state is DossierState.PROCESSING and d.deadline_version == 2
    assert d.due_at is not None and d.due_at >= first_due
    d = await dossiers.act(client, d.code, "request-supplement",
                           cmd.RequestSupplement(reason="Thiếu giấy tờ lần 2"))
    assert d.late_by_supplement
    d = await dossiers.act(client, d.code, "supplement", cmd.ProvideSupplement())
    d = await dossiers.act(client, d.code, "complete", cmd.CompleteProcessing(summary="xong"))
    assert d.timeliness is Timeliness.LATE
    types = await assert_stream_sound(pool, d.code, d)
    assert types.count("DeadlineSet") == 3


async def test_receive_twice_is_one_dossier(client: Client, pool: asyncpg.Pool,
                                            receive: Receive) -> None:
    """Receiving the same code again returns the same dossier and writes nothing new."""
    d1 = await receive()
    d2 = await receive(code=d1.code)
    assert d1 == d2
    assert await assert_stream_sound(pool, d1.code, d2) == ["DossierReceived", "DeadlineSet"]
