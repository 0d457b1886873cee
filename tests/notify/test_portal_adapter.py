"""The portal's delivery adapter against the local portal simulator (real HTTP on loopback):
how each answer is read."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from motcua.devstack.procs import free_port
from motcua.eventstore.outbox import Claimed
from motcua.notify.portal import PROGRESS, UPSERT
from motcua.notify.portal_http import PortalAdapter
from motcua.notify.simulators import Served, Simulator

CODE = "000.21.39.H39-261207-0042"


def _dossier(**extra: Any) -> dict[str, Any]:
    return {"MaHoSo": CODE, "MaTTHC": "1.004222", "NgayTiepNhan": "20261207090000",
            "NgayHenTra": "20261216170000", "TrangThaiHoSo": "2", **extra}


def _claimed(body: dict[str, Any], part: str = UPSERT) -> Claimed:
    now = datetime.now(UTC)
    return Claimed(1, str(uuid.uuid4()), "portal", part, CODE, "dossier", 1, body, now, now)


def _upsert(updating: bool, **extra: Any) -> dict[str, Any]:
    return {"service": UPSERT, "isUpdating": "True" if updating else "False",
            "data": [_dossier(**extra)]}


@pytest.fixture
async def portal() -> AsyncIterator[Served]:
    served = Served(Simulator(token="t0ken"), free_port())
    await served.start()
    yield served
    await served.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def test_already_exists_becomes_an_update_and_not_found_an_insert(
        portal: Served, http: httpx.AsyncClient) -> None:
    """An insert of a dossier the portal holds is resent as an update in the same attempt;
    an update of one it does not hold as an insert; both end delivered."""
    adapter = PortalAdapter(http, portal.url, "t0ken")
    assert (await adapter.send(_claimed(_upsert(updating=True)))).outcome == "delivered"
    assert portal.sim.dossiers[CODE]["TrangThaiHoSo"] == "2"
    sent = await adapter.send(_claimed(_upsert(updating=False, TrangThaiHoSo="4")))
    assert sent.outcome == "delivered" and portal.sim.dossiers[CODE]["TrangThaiHoSo"] == "4"
    flags = [r.body["isUpdating"] for r in portal.sim.requests]
    assert flags == ["True", "False", "False", "True"]  # not found -> insert; exists -> update
    assert all(r.headers["authorization"] == "Bearer t0ken" for r in portal.sim.requests)


async def test_how_failures_are_read(portal: Served, http: httpx.AsyncClient) -> None:
    """5xx and a wrong token are retried; a content the portal refuses is final; the progress
    of a dossier it does not know is final too (sent in order, that cannot happen)."""
    adapter = PortalAdapter(http, portal.url, "t0ken")
    portal.sim.fail_next(1, 502)
    assert (await adapter.send(_claimed(_upsert(True)))).outcome == "retried"
    bad_token = await PortalAdapter(http, portal.url, "old").send(_claimed(_upsert(True)))
    assert (bad_token.outcome, bad_token.status_code) == ("retried", 401)
    refused = await adapter.send(_claimed(_upsert(False, NgayHenTra="16/12/2026")))
    assert refused.outcome == "failed" and "NgayHenTra" in (refused.error or "")
    progress = {"service": PROGRESS, "data": [{"MaHoSo": "unknown", "TrangThai": "4",
                                               "ThoiDiemXuLy": "20261207090000"}]}
    assert (await adapter.send(_claimed(progress, PROGRESS))).outcome == "failed"


async def test_a_refused_connection_is_retried(http: httpx.AsyncClient) -> None:
    """Nothing listening: retried, with the reason."""
    sent = await PortalAdapter(http, f"http://127.0.0.1:{free_port()}", "t").send(
        _claimed(_upsert(True)))
    assert sent.outcome == "retried" and "unreachable" in (sent.error or "")
