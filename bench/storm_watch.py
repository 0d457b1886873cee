"""What the storm benchmark watches besides the alert events: when the views say "overdue" (the
`motcua_dossiers_open` gauge on /metrics, the list `GET /v1/dossiers?sla=...`), when the
webhooks arrive (a receiver on loopback, the dispatcher's `MOTCUA_WEBHOOK_URL`), and what the
Temporal server records per alert (the events after the timer fired in a workflow's history).

Polling the views must not load the machine the storm is measured on, so each poll is three
small requests: the two gauges' exporters (the API's /metrics and the projector's) and one page
of the storm's unit's dossiers that are NOT overdue (`sla=on_track&sla=due_soon`, at most 200):
how many remain tells how many are shown overdue once fewer than a page remain. When none
remain, the overdue list itself (`sla=overdue`) is counted page by page once to confirm it
holds all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from bench.client import Api, ApiError

GAUGE = "motcua_dossiers_open"
PAGE = 200  # the list's largest page (motcua.api.listing.MAX_LIMIT)
POLL_S = 0.25


def overdue_in_gauge(text: str, unit: str) -> int:
    """Open dossiers of `unit` whose `sla_status` is overdue, summed over their states, from
    a Prometheus text exposition."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(GAUGE + "{") and f'unit="{unit}"' in line \
                and 'sla_status="overdue"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


async def count_listed(api: Api, unit: str, sla: Sequence[str] = ()) -> int:
    """How many dossiers of `unit` the list API returns (with these SLA statuses), page by
    page."""
    total, cursor = 0, None
    while True:
        params: dict[str, Any] = {"unit": unit, "limit": PAGE, "sla": list(sla)}
        if cursor:
            params["cursor"] = cursor
        page = (await api.get("/v1/dossiers", params=params)).json()
        total += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return total


@dataclass
class Seen:
    """When each view showed how many of the `n` dossiers overdue (epoch seconds, taken when
    the answer arrived: a lag is never shown shorter than it was)."""

    n: int
    gauge: list[tuple[float, int, int]] = field(default_factory=list)  # (t, API, projector)
    listed: list[tuple[float, int | None]] = field(default_factory=list)  # None: > a page left
    list_confirmed_at: float | None = None
    errors: int = 0

    def gauge_at(self, k: int) -> float | None:
        """When the gauge first showed at least `k` overdue (as `max by` over the exporters,
        the dashboards' query, sees it)."""
        return next((t for t, a, p in self.gauge if max(a, p) >= k), None)

    def list_at(self, k: int) -> float | None:
        t = next((t for t, seen in self.listed if seen is not None and seen >= k), None)
        if k >= self.n and t is not None:
            return max(t, self.list_confirmed_at) if self.list_confirmed_at else None
        return t

    def lags(self, due: float) -> dict[str, float | None]:
        """Seconds from `due` until 50 % (gauge only), 99 % and all of them were shown
        overdue, by view; None: not within the watch."""
        half, most = math.ceil(0.5 * self.n), math.ceil(0.99 * self.n)

        def since(t: float | None) -> float | None:
            return None if t is None else round(t - due, 3)

        return {"gauge p50": since(self.gauge_at(half)), "gauge p99": since(self.gauge_at(most)),
                "gauge all": since(self.gauge_at(self.n)), "list p99": since(self.list_at(most)),
                "list all": since(self.list_at(self.n))}

    def done(self) -> bool:
        return self.gauge_at(self.n) is not None and self.list_at(self.n) is not None


async def watch_overdue(api: Api, exporter: Api, unit: str, n: int, until: float) -> Seen:
    """Poll the views every `POLL_S` until all `n` dossiers of `unit` show overdue in both, or
    `until` (epoch seconds)."""
    seen = Seen(n)
    limit = min(PAGE, n)
    while time.time() < until and not seen.done():
        started = time.monotonic()
        try:
            own, projector, rest = await asyncio.gather(
                api.get("/metrics"), exporter.get("/metrics"),
                api.get("/v1/dossiers", params={"unit": unit, "sla": ["on_track", "due_soon"],
                                                "limit": limit}))
        except (ApiError, ValueError):
            seen.errors += 1
            await asyncio.sleep(POLL_S)
            continue
        now = time.time()
        seen.gauge.append((now, overdue_in_gauge(own.text, unit),
                           overdue_in_gauge(projector.text, unit)))
        page = rest.json()
        left = len(page["items"])
        seen.listed.append((now, n - left if not page.get("next_cursor") else None))
        if left == 0 and seen.list_confirmed_at is None:
            with contextlib.suppress(ApiError, ValueError):
                if await count_listed(api, unit, ["overdue"]) >= n:
                    seen.list_confirmed_at = time.time()
        await asyncio.sleep(max(0.0, POLL_S - (time.monotonic() - started)))
    return seen


class WebhookReceiver:
    """The operator's webhook on loopback: answers 204 to every POST and records when each
    arrived with its body (the dispatcher's JSON: event_id, kind, code, due_at, ...)."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listen on a free loopback port; returns it."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = 0
                for line in head.split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                self.arrivals.append((time.time(), json.loads(body) if body else {}))
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def delivered(self, codes: Sequence[str], kind: str) -> set[str]:
        wanted = set(codes)
        return {b.get("code", "") for _, b in self.arrivals
                if b.get("kind") == kind and b.get("code") in wanted}

    async def wait_for(self, codes: Sequence[str], kind: str, until: float) -> None:
        """Until a `kind` webhook arrived for every code, or `until` (epoch seconds)."""
        while time.time() < until:
            if len(self.delivered(codes, kind)) >= len(set(codes)):
                return
            await asyncio.sleep(0.5)

    def summary(self, codes: Sequence[str], kind: str) -> dict[str, Any]:
        """Delivery lag (arrival - the alert's due time, first arrival of each alert),
        dossiers reached, alerts per dossier and repeated deliveries of one alert."""
        wanted = set(codes)
        first: dict[str, tuple[float, dict[str, Any]]] = {}
        repeats = 0
        for t, body in self.arrivals:
            if body.get("kind") != kind or body.get("code") not in wanted:
                continue
            key = str(body.get("event_id"))
            if key in first:
                repeats += 1
            else:
                first[key] = (t, body)
        lags = [t - datetime.fromisoformat(b["due_at"]).timestamp() for t, b in first.values()]
        per_dossier = Counter(b["code"] for _, b in first.values())
        return {"lags_s": lags, "dossiers": len(per_dossier),
                "alerts_more_than_one_per_dossier": sum(1 for c in per_dossier.values() if c > 1),
                "repeated_deliveries": repeats}


def _name(event: HistoryEvent) -> str:
    """The event's type, with what a marker or an upsert is about: a patch marker names its
    patch, a local activity's its activity, an upsert the search attributes it sets."""
    name = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")
    if event.HasField("marker_recorded_event_attributes"):
        marker = event.marker_recorded_event_attributes
        about = marker.marker_name
        # The core SDK's own markers carry plain JSON: a patch's id under "patch-data", a
        # local activity's type under "data" (its "result" is the workflow's payload).
        with contextlib.suppress(KeyError, IndexError, ValueError, TypeError):
            key = "patch-data" if marker.marker_name == "core_patch" else "data"
            data = json.loads(marker.details[key].payloads[0].data)
            what = (data.get("id") or data.get("activity_type")) if isinstance(data, dict) \
                else None
            about += f":{what}" if what else ""
        return f"{name}({about})"
    if event.HasField("upsert_workflow_search_attributes_event_attributes"):
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        return f"{name}({','.join(sorted(fields.indexed_fields))})"
    return name


async def events_after_timer(client: Client, workflow_id: str) -> list[str]:
    """The events in `workflow_id`'s history from its last TimerFired to its end: what the
    server recorded for the alert (the storms' workflows do nothing after it)."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return after_last_timer(list(history.events))


def after_last_timer(events: Sequence[HistoryEvent]) -> list[str]:
    """`_name` of each event from the last TimerFired on (none without a timer)."""
    fired = EventType.EVENT_TYPE_TIMER_FIRED
    last = max((i for i, e in enumerate(events) if e.event_type == fired), default=None)
    return [] if last is None else [_name(e) for e in events[last:]]


async def per_alert(address: str, workflow_ids: Sequence[str]) -> dict[str, Any]:
    """History events and workflow tasks per alert over a sample of workflows, and the
    distinct sequences of event types seen (with how many workflows had each)."""
    client = await Client.connect(address)
    tails = await asyncio.gather(*(events_after_timer(client, w) for w in workflow_ids))
    tails = [t for t in tails if t]
    if not tails:
        return {"sampled": 0}
    shapes = Counter(" ".join(t) for t in tails)
    return {"sampled": len(tails), "events": sum(map(len, tails)) / len(tails),
            "workflow_tasks": sum(t.count("WORKFLOW_TASK_COMPLETED") for t in tails)
            / len(tails), "shapes": dict(shapes.most_common())}
