"""Clerks driving dossiers through the HTTP API while faults are injected, as a real client
does: an `Idempotency-Key` on every POST, and a retry with the same key (after `Retry-After`)
when the API answers 5xx or does not answer, so each command lands exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

UNIT = "000.21.39.H39"
PROCEDURE = "1.004222"  # four working days: no alert during the test
LIFECYCLE: tuple[tuple[str, dict[str, Any]], ...] = (
    ("assign", {"officer": "dev"}),  # an active user of every unit (the holder must be one)
    ("start", {}),
    ("complete", {"summary": "Đã giải quyết"}),
    ("return", {}),
)
RETRY_AFTER_CAP = 5.0


@dataclass(frozen=True)
class Call:
    """One HTTP exchange (or a failure to get one) as the client saw it."""

    method: str
    route: str
    started: float
    ended: float
    status: int | None  # None: no answer (transport error)
    dependency: str | None = None
    retry_after: str | None = None
    content_type: str | None = None
    error: str | None = None
    key: str | None = None  # the Idempotency-Key: the same on every retry of a command


class UnexpectedAnswer(Exception):
    """The API answered something a correct client cannot retry its way out of."""


@dataclass
class Api:
    """A client of the clerk API that records every exchange in `calls`."""

    http: httpx.AsyncClient
    calls: list[Call] = field(default_factory=list)
    patience: float = 150.0

    async def _once(self, method: str, path: str, route: str, body: dict[str, Any] | None,
                    key: str | None) -> httpx.Response | None:
        started = time.monotonic()
        headers = {"Idempotency-Key": key} if key else None
        try:
            response = await self.http.request(method, path, json=body, headers=headers)
        except httpx.TransportError as err:
            self.calls.append(Call(method, route, started, time.monotonic(), None,
                                   error=f"{type(err).__name__}: {err}", key=key))
            return None
        dependency = None
        if response.status_code == 503:
            with contextlib.suppress(ValueError, AttributeError):
                dependency = response.json().get("dependency")
        self.calls.append(Call(method, route, started, time.monotonic(), response.status_code,
                               dependency=dependency,
                               retry_after=response.headers.get("retry-after"),
                               content_type=response.headers.get("content-type"), key=key))
        return response

    async def call(self, method: str, path: str, route: str,
                   body: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON answer of a 2xx, retrying 5xx and transport errors with the same key."""
        key = f"fault-{uuid.uuid4()}" if method == "POST" else None
        give_up = time.monotonic() + self.patience
        while True:
            response = await self._once(method, path, route, body, key)
            if response is not None and response.is_success:
                answer: dict[str, Any] = response.json()
                return answer
            if response is not None and response.status_code < 500:
                raise UnexpectedAnswer(f"{method} {path}: {response.status_code} "
                                       f"{response.text[:300]}")
            if time.monotonic() > give_up:
                what = response.status_code if response is not None else "no answer"
                raise UnexpectedAnswer(f"{method} {path}: still {what} after "
                                       f"{self.patience:.0f}s")
            await asyncio.sleep(_wait(response))

    async def probe(self, path: str, route: str) -> None:
        """One GET, recorded, never retried."""
        await self._once("GET", path, route, None, None)


def _wait(response: httpx.Response | None) -> float:
    if response is None:
        return 1.0
    try:
        return min(float(response.headers.get("retry-after", "1")), RETRY_AFTER_CAP)
    except ValueError:
        return 1.0


def receipt_body(applicant: str, original_received_at: datetime | None = None,
                 procedure: str = PROCEDURE) -> dict[str, Any]:
    body: dict[str, Any] = {"procedure_code": procedure, "unit_code": UNIT,
                            "channel": "counter", "applicant": {"name": applicant}}
    if original_received_at is not None:
        body["original_received_at"] = original_received_at.isoformat()
    return body


@dataclass
class Load:
    """`clerks` concurrent clerks, each receiving a dossier and taking it through its whole
    lifecycle (assign, start, complete, return, then a read), pausing `pause` seconds between
    requests; plus a reader listing and reading dossiers every second."""

    api: Api
    clerks: int = 2
    pause: float = 0.4
    codes: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._clerk(i), name=f"clerk-{i}")
                       for i in range(self.clerks)]
        self._tasks.append(asyncio.create_task(self._reader(), name="reader"))

    def cancel(self) -> None:
        """Abandon the clerks (the scenario failed)."""
        for task in self._tasks:
            task.cancel()

    async def finish(self, within: float) -> None:
        """Stop starting dossiers and wait (bounded) for the ones in progress to complete."""
        self.stop.set()
        done, pending = await asyncio.wait(self._tasks, timeout=within)
        for task in pending:
            task.cancel()
            self.failures.append(f"{task.get_name()} still busy after {within:.0f}s")
        for task in done:
            if task.exception() is not None:
                self.failures.append(f"{task.get_name()}: {task.exception()!r}")

    async def _clerk(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            code = ""
            try:
                dossier = await self.api.call("POST", "/v1/dossiers", "receive",
                                              receipt_body(f"Nguyễn Văn {n}-{i}"))
                code = dossier["code"]
                self.codes.append(code)
                for action, body in LIFECYCLE:
                    await asyncio.sleep(self.pause)
                    await self.api.call("POST", f"/v1/dossiers/{code}/{action}", action, body)
                await asyncio.sleep(self.pause)
                final = await self.api.call("GET", f"/v1/dossiers/{code}", "get")
                if final["state"] != "returned":
                    raise UnexpectedAnswer(f"{code} is {final['state']} after its lifecycle")
                self.completed.append(code)
            except UnexpectedAnswer as err:
                self.failures.append(f"clerk-{n} {code or 'receive'}: {err}")
            await asyncio.sleep(self.pause)

    async def _reader(self) -> None:
        while not self.stop.is_set():
            await self.api.probe("/v1/dossiers?limit=5", "list")
            if self.codes:
                await self.api.probe(f"/v1/dossiers/{random.choice(self.codes)}", "get")
            await asyncio.sleep(1.0)
