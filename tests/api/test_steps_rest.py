"""Transfers made by the procedure's steps and the receiver of a hand-over, over HTTP on the
real stack (issue 22 item 3): Nghệ An 3854's 2.002755 counts steps 7-15 as the provincial
department's share (000.00.30.H40), so the hand-over into step 7 hands the dossier to it;
its staff then see and act on it, the receiving unit still sees it, a third unit does not;
the department's 02 working days to return an unfit dossier are on the dossier; a send-back
into the commune's step brings the dossier back; a hand-over to a named person is checked
against the next step's unit and role."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import httpx
import pytest

from domain.transfers import RETURN_WORKING_DAYS, working_days_later
from motcua.catalog.calendar import load_calendar
from tests.api.conftest import MakeToken, act, bearer, make_officer, receive
from tests.conftest import UNIT

pytestmark = pytest.mark.engine

DEPARTMENT = "000.00.30.H40"  # Sở Nội vụ's unit in the shipped catalog
THIRD_UNIT = "000.23.39.H39"
NGHE_AN = "2.002755"


async def _get(http: httpx.AsyncClient, token: str, code: str) -> httpx.Response:
    return await http.get(f"/v1/dossiers/{code}", headers=bearer(token))


def _events(body: dict[str, object], kind: str) -> list[dict[str, object]]:
    timeline = body["timeline"]
    assert isinstance(timeline, list)
    return [e for e in timeline if e["event_type"] == kind]


async def test_steps_hand_the_dossier_to_the_department_and_back(
        http: httpx.AsyncClient, make_token: MakeToken, pool: asyncpg.Pool) -> None:
    home_leader = await make_token("leader", unit=UNIT)
    home_clerk = await make_token("clerk", unit=UNIT)
    dept_clerk = await make_token("clerk", unit=DEPARTMENT)
    dept_leader = await make_token("leader", unit=DEPARTMENT)
    third = await make_token("clerk", "officer", "leader", unit=THIRD_UNIT)
    code = (await receive(http, home_clerk, procedure_code=NGHE_AN))["code"]
    assert (await _get(http, dept_clerk, code)).status_code == 404  # not its share yet

    # Steps 1-6 are the commune's: its leader hands them on (a leader may act for its staff).
    for expected in range(1, 7):
        moved = await act(http, home_leader, code, "hand-over", {})
        assert moved.status_code == 200, moved.text
        assert moved.json()["current_step"] == expected
    body = moved.json()
    # The hand-over into step 7 (the department's) handed the dossier to the department.
    assert (body["unit_code"], body["holding_unit_code"]) == (UNIT, DEPARTMENT)
    [transferred] = _events(body, "DossierTransferred")
    assert transferred["data"]["to_unit"] == DEPARTMENT
    assert str(transferred["data"]["reason"]).startswith("Bước 7 (")
    # Its 02 working days to return an unfit dossier, from the transfer (at once: the shipped
    # forwarding setting), on known working days of the shipped calendar.
    at = datetime.fromisoformat(str(transferred["at"]))
    limit = working_days_later(load_calendar(), at, RETURN_WORKING_DAYS)
    assert datetime.fromisoformat(body["transfer_return_by"]) == limit
    assert datetime.fromisoformat(str(transferred["data"]["return_by"])) == limit

    # Scope from every side: the department reads and acts, the commune reads but may not
    # hand on the department's step, a third unit gets 404.
    assert (await _get(http, dept_clerk, code)).status_code == 200
    assert (await _get(http, home_clerk, code)).status_code == 200
    assert (await _get(http, third, code)).status_code == 404
    assert (await act(http, home_leader, code, "hand-over", {})).status_code == 403
    assert (await act(http, third, code, "hand-over", {})).status_code == 404
    # A transfer by command is a leader's of the holding unit: not its clerk (role), not the
    # receiving unit's leader (another unit holds it), not a third unit's (404).
    onward = {"unit_code": THIRD_UNIT, "reason": "liên thông tiếp"}
    assert (await act(http, dept_clerk, code, "transfer", onward)).status_code == 403
    assert (await act(http, home_leader, code, "transfer", onward)).status_code == 403
    assert (await act(http, third, code, "transfer", onward)).status_code == 404

    # The receiver of a hand-over: step 8 is the department leader's ("Phân công ...").
    commune_leader = await make_officer(pool, unit=UNIT, roles=("leader",))
    dept_officer = await make_officer(pool, unit=DEPARTMENT, roles=("officer",))
    dept_head = await make_officer(pool, unit=DEPARTMENT, roles=("leader",))
    for wrong in ("khong-co-nguoi-nay", commune_leader, dept_officer):
        refused = await act(http, dept_clerk, code, "hand-over", {"receiver": wrong})
        assert refused.status_code == 422, (wrong, refused.text)
        assert refused.json()["field"] == "receiver" or "receiver" in refused.text
    handed = await act(http, dept_clerk, code, "hand-over", {"receiver": dept_head})
    assert handed.status_code == 200, handed.text
    assert handed.json()["current_step"] == 7
    assert handed.json()["steps"][7]["receiver"] == dept_head
    assert handed.json()["holding_unit_code"] == DEPARTMENT  # same unit: no new transfer
    assert len(_events(handed.json(), "DossierTransferred")) == 1

    # A send-back into the commune's step 6 brings the dossier back to the commune.
    back = await act(http, dept_leader, code, "send-back",
                     {"reason": "Văn bản chưa đóng dấu", "to_step": 5})
    assert back.status_code == 200, back.text
    assert back.json()["holding_unit_code"] == UNIT and back.json()["current_step"] == 5
    assert (await _get(http, dept_clerk, code)).status_code == 404
    again = await act(http, home_clerk, code, "hand-over", {})  # the commune's records clerk
    assert again.status_code == 200, again.text
    assert again.json()["holding_unit_code"] == DEPARTMENT
    assert len(_events(again.json(), "DossierTransferred")) == 3


async def test_the_department_returns_an_unfit_dossier_in_time(
        http: httpx.AsyncClient, make_token: MakeToken) -> None:
    """Within its 02 working days the department returns the dossier as unfit: recorded in
    time, with the one-stop shop's last moment to tell the citizen (01 working day)."""
    home_leader = await make_token("leader", unit=UNIT)
    home_clerk = await make_token("clerk", unit=UNIT)
    dept_leader = await make_token("leader", unit=DEPARTMENT)
    code = (await receive(http, home_clerk, procedure_code=NGHE_AN))["code"]
    for _ in range(6):
        assert (await act(http, home_leader, code, "hand-over", {})).status_code == 200
    returned = await act(http, dept_leader, code, "return-transfer",
                         {"reason": "Thiếu xác nhận của UBND xã"})
    assert returned.status_code == 200, returned.text
    body = returned.json()
    assert body["holding_unit_code"] == UNIT and body["transfer_return_by"] is None
    [event] = _events(body, "TransferReturned")
    assert event["data"]["in_time"] is True
    at = datetime.fromisoformat(str(event["at"]))
    assert datetime.fromisoformat(str(event["data"]["citizen_notice_by"])) == \
        working_days_later(load_calendar(), at, 1)
