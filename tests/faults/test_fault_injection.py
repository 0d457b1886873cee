"""Fault injection while dossiers flow (tracker issue 7): the worker SIGKILLed and restarted,
the Temporal dev server restarted, PostgreSQL stopped for 30 s, the webhook failing for a
minute (see `tests/faults/scenario.py` for the timeline). Afterwards, for every dossier: the
workflow state is the fold of its stored events, positions are contiguous, projections equal
a rebuild from zero, every alert was delivered once or recorded as failed, and the API
answered 503 (never 500) while a dependency was down."""

from __future__ import annotations

import asyncpg
import pytest
from temporalio.client import Client

from domain.states import DossierState
from motcua import dossiers
from motcua.eventstore import projector
from motcua.eventstore.store import Conn
from tests.engine.helpers import assert_stream_sound
from tests.faults.scenario import ALERTS_PER_DOSSIER, Outcome

pytestmark = [pytest.mark.engine, pytest.mark.timeout(600)]

LIFECYCLE_EVENTS = ["DossierReceived", "DeadlineSet", "OfficerAssigned", "ProcessingStarted",
                    "ResultReady", "ResultReturned"]
_READ_MODELS = {
    "dossiers": "SELECT code, unit_code, procedure_code, state, status_code, sla_status, "
                "channel, assignee, received_at, due_at, due_soon_at, original_due_at, "
                "deadline_version, calendar_version, catalog_version, apology_sent, "
                "overdue_without_apology, supplement_requests, paused_seconds, finished_at, "
                "closed_at, timeliness, satisfaction, version, snapshot::text "
                "FROM dossiers ORDER BY code",
    "work_queue": "SELECT * FROM work_queue ORDER BY code",
    "report_facts": "SELECT * FROM report_facts ORDER BY code",
    "report_counts": "SELECT * FROM report_counts ORDER BY grain, scope, bucket, unit_code, "
                     "procedure_code",
}
_COUNT_KEY_COLUMNS = 5  # grain, scope, bucket, unit_code, procedure_code; then the measures


async def _rows(conn: Conn, name: str) -> list[tuple[object, ...]]:
    """A read model's rows; report counts whose measures are all zero are left out (a live
    projector leaves such a row where a count went up and back down, as when a dossier's
    future overdue day is undone by its completion; a rebuild never writes one)."""
    rows = [tuple(r) for r in await conn.fetch(_READ_MODELS[name])]
    if name == "report_counts":
        rows = [r for r in rows if any(r[_COUNT_KEY_COLUMNS:])]
    return rows


def test_api_never_answered_500(outcome: Outcome) -> None:
    """No request got a 500 or no answer at all, and every 503 was problem+json with
    Retry-After."""
    broken = [c for c in outcome.calls
              if c.status is None or (c.status >= 500 and c.status != 503)]
    assert not broken, f"{len(broken)} calls failed, e.g. {broken[:5]}"
    for c in outcome.calls:
        if c.status == 503:
            assert c.content_type == "application/problem+json", c
            assert c.retry_after is not None and int(c.retry_after) > 0, c


@pytest.mark.parametrize(("window", "dependency"), [("postgres-down", "postgresql"),
                                                    ("temporal-down", "temporal")])
def test_api_answered_503_while_a_dependency_was_down(outcome: Outcome, window: str,
                                                      dependency: str) -> None:
    """While PostgreSQL (or Temporal) was down the API answered 503 naming it."""
    seen = [c for c in outcome.during(window) if c.status == 503]
    assert any(c.dependency == dependency for c in seen), (
        f"no 503 naming {dependency} among {len(outcome.during(window))} calls: "
        f"{sorted({(c.route, c.status, c.dependency) for c in outcome.during(window)}, key=str)}")


async def test_every_started_lifecycle_completed(outcome: Outcome, stack_pool: asyncpg.Pool,
                                                 stack_client: Client) -> None:
    """Every dossier received under load reached `returned`, no stack process died, and the
    event store and Temporal hold exactly the dossiers the clients were told about."""
    assert not outcome.failures, outcome.failures
    assert outcome.load_codes and sorted(outcome.completed) == sorted(outcome.load_codes)
    assert not outcome.dead_children, f"died: {outcome.dead_children}"
    streams = {r[0] for r in await stack_pool.fetch("SELECT DISTINCT stream FROM events")}
    assert streams == set(outcome.all_codes)
    workflows = {w.id async for w in stack_client.list_workflows()}
    assert workflows == set(outcome.all_codes)


async def test_workflow_state_is_the_fold_of_contiguous_events(
        outcome: Outcome, stack_pool: asyncpg.Pool, stack_client: Client) -> None:
    """For every dossier the stored positions are 1..n with unique ids and their fold equals
    the workflow's state; lifecycles hold each of their events exactly once."""
    for code in outcome.all_codes:
        state = await dossiers.current(stack_client, code)
        types = await assert_stream_sound(stack_pool, code, state)
        if code in outcome.load_codes:
            assert state.state is DossierState.RETURNED
            assert types == LIFECYCLE_EVENTS, (code, types)
        else:
            assert state.state is DossierState.RECEIVED
            assert types.count("DeadlineAlertRaised") == ALERTS_PER_DOSSIER, (code, types)


async def test_projections_equal_a_rebuild_from_zero(outcome: Outcome,
                                                     stack_pool: asyncpg.Pool) -> None:
    """The read models the projector kept through the faults equal a rebuild from zero."""
    assert outcome.projector_caught_up, "the projector never caught up with the events"
    async with stack_pool.acquire() as conn:
        assert await projector.catch_up(conn) == 0  # the live projector had applied it all
        before = {name: await _rows(conn, name) for name in _READ_MODELS}
        rebuilt = await projector.rebuild(conn)
        after = {name: await _rows(conn, name) for name in _READ_MODELS}
        total = await conn.fetchval("SELECT count(*) FROM events")
    assert rebuilt == total
    assert len(before["dossiers"]) == len(outcome.all_codes)
    for name in _READ_MODELS:
        assert before[name] == after[name], f"{name} differs from its rebuild"


async def test_every_alert_was_delivered_once_or_recorded_as_failed(
        outcome: Outcome, stack_pool: asyncpg.Pool) -> None:
    """Each raised alert has exactly one delivery record (the dispatcher's outbox table); here
    all are delivered (a one-minute outage is within the retries), and the webhook accepted
    every one."""
    assert outcome.alerts_settled, "alerts did not settle in time"
    raised = {r["id"] for r in await stack_pool.fetch(
        "SELECT event_id::text AS id FROM events WHERE event_type = 'DeadlineAlertRaised'")}
    rows = await stack_pool.fetch(
        "SELECT alert_event_id::text AS alert, status FROM notification_deliveries")
    assert len(raised) == ALERTS_PER_DOSSIER * len(outcome.alert_codes)
    assert sorted(r["alert"] for r in rows) == sorted(raised), \
        "an alert has no delivery record, or more than one"
    sent = {r["alert"] for r in rows if r["status"] == "delivered"}
    assert sent == raised, "a one-minute webhook outage must end delivered"
    assert sent <= {h.alert_id for h in outcome.hits if h.status == 200}
    assert any(h.status == 500 for h in outcome.hits), "no alert met the webhook outage"
