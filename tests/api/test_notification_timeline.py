"""`GET /v1/dossiers/{code}` shows the outcome of each alert's notification, read from the
dispatcher's table (issue 13: delivery records cannot go into the dossier's stream)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from tests.api.conftest import bearer, receive

pytestmark = pytest.mark.engine


async def test_the_timeline_shows_finished_deliveries_after_their_alert(
        http: httpx.AsyncClient, dev_token: str, pool: asyncpg.Pool) -> None:
    """A delivered and a failed notification appear at their alert's position, after it, with
    the dispatcher as actor; one still being tried does not appear."""
    code = (await receive(http, dev_token))["code"]
    finished = datetime.now(UTC)
    rows = [(str(uuid.uuid4()), 2, "due_soon", "delivered", 1, None, finished),
            (str(uuid.uuid4()), 1, "overdue", "failed", 10, "webhook answered 503", finished),
            (str(uuid.uuid4()), 2, "overdue", "pending", 3, "webhook answered 503", None)]
    await pool.executemany(
        "INSERT INTO notification_deliveries (alert_event_id, stream, alert_position, "
        "global_position, kind, unit_code, body, status, attempts, last_error, raised_at, "
        "finished_at) VALUES ($1::uuid, $2, $3, 0, $4, 'u', '{}', $5, $6, $7, now(), $8)",
        [(i, code, pos, kind, status, n, err, at) for i, pos, kind, status, n, err, at in rows])
    body = (await http.get(f"/v1/dossiers/{code}", headers=bearer(dev_token))).json()
    assert [(e["position"], e["event_type"]) for e in body["timeline"]] == [
        (1, "DossierReceived"), (1, "NotificationFailed"), (2, "DeadlineSet"),
        (2, "NotificationSent")]
    failed, sent = body["timeline"][1], body["timeline"][3]
    assert failed["actor"] == sent["actor"] == "dispatcher"
    assert failed["data"] == {"at": finished.isoformat(), "kind": "overdue",
                              "alert_event_id": rows[1][0], "attempts": 10,
                              "error": "webhook answered 503"}
    assert sent["data"]["alert_event_id"] == rows[0][0] and "error" not in sent["data"]
