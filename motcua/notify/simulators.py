"""Local stand-ins for the outside services the delivery layer talks to, for tests and
`motcua dev --portal-simulator` / `motcua portal simulate`: the national portal's two
integration services, a generic SMS gateway and Zalo ZNS. Each is a Starlette app keeping what
it received in memory, shaped like the public clients expect (motcua.notify.portal):

- portal: `POST /DongBoHoSoMC` and `POST /CapNhatTienDoHoSoMC` with a bearer token; answers
  `{"error_code": "00"}`, or `{"error_code": "-1", "message": "Hồ sơ đã tồn tại"}` to an insert
  of a dossier it holds, "Hồ sơ không tồn tại" to an update or progress of one it does not,
  and `{"error_code": "-2", ...}` to a body missing a required field or with a malformed
  date; `GET /_sim/dossiers` shows what it holds;
- SMS: `POST /sms` with `{"to", "text"}`; `GET /_sim/sms`;
- Zalo ZNS: `POST /message/template` with header `access_token` and `{"phone", "template_id",
  "template_data", "tracking_id"}` (Zalo's documented shape), answers `{"error": 0, ...}`.

`fail_next(n, status)` makes the next `n` requests fail, as a portal under maintenance does.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

REQUIRED = ("MaHoSo", "MaTTHC", "NgayTiepNhan", "NgayHenTra", "TrangThaiHoSo")
_DATE = re.compile(r"^(\d{14})?$")
_DATE_FIELDS = ("NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayNopHoSo",
                "ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh")


@dataclass
class Received:
    """One request as the simulator saw it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Simulator:
    """The state of every simulated service (one object, so one process serves them all)."""

    token: str = "portal-token"
    zalo_token: str = "zalo-token"
    dossiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    progress: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    sms: list[dict[str, Any]] = field(default_factory=list)
    zalo: list[dict[str, Any]] = field(default_factory=list)
    _failures: list[tuple[int, Callable[[dict[str, Any]], bool] | None]] = field(
        default_factory=list)

    def fail_next(self, n: int, status: int = 503,
                  when: Callable[[dict[str, Any]], bool] | None = None) -> None:
        """Answer the next `n` requests (any service; with `when`, only those whose JSON body
        it accepts) with `status`."""
        self._failures += [(status, when)] * n

    def accepted(self, path: str) -> list[dict[str, Any]]:
        """The objects of the requests to `path` that were answered with success."""
        return [item for r in self.requests if r.path == path and r.body.get("_ok")
                for item in r.body.get("data", [])]

    async def _take(self, request: Request) -> tuple[Received, Response | None]:
        try:
            body = await request.json()
        except ValueError:
            body = {}
        got = Received(request.url.path, {k.lower(): v for k, v in request.headers.items()},
                       body if isinstance(body, dict) else {})
        self.requests.append(got)
        if self._failures:
            status, when = self._failures[0]
            if when is None or when(got.body):
                self._failures.pop(0)
                return got, JSONResponse({"message": "maintenance"}, status)
        return got, None

    async def portal(self, request: Request) -> Response:
        got, failure = await self._take(request)
        if failure is not None:
            return failure
        if got.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"error_code": "401", "message": "Unauthorized"}, 401)
        service = request.path_params["service"]
        data = got.body.get("data")
        if got.body.get("service") != service or not isinstance(data, list) or not data:
            return JSONResponse({"error_code": "-2", "message": "Sai cấu trúc dữ liệu"})
        for item in data:
            bad = _invalid(item, service)
            if bad:
                return JSONResponse({"error_code": "-2", "message": bad})
            code = item["MaHoSo"]
            if service == "DongBoHoSoMC":
                updating = got.body.get("isUpdating") == "True"
                if not updating and code in self.dossiers:
                    return JSONResponse({"error_code": "-1", "message": "Hồ sơ đã tồn tại"})
                if updating and code not in self.dossiers:
                    return JSONResponse({"error_code": "-1", "message": "Hồ sơ không tồn tại"})
            elif code not in self.dossiers:
                return JSONResponse({"error_code": "-1", "message": "Hồ sơ không tồn tại"})
        for item in data:
            if service == "DongBoHoSoMC":
                self.dossiers[item["MaHoSo"]] = item
            else:
                self.progress.setdefault(item["MaHoSo"], []).append(item)
        got.body["_ok"] = True
        return JSONResponse({"error_code": "00", "message": "Thành công"})

    async def send_sms(self, request: Request) -> Response:
        got, failure = await self._take(request)
        if failure is not None:
            return failure
        if not isinstance(got.body.get("to"), str) or not isinstance(got.body.get("text"), str):
            return JSONResponse({"status": "error", "message": "to and text required"}, 400)
        self.sms.append(got.body)
        return JSONResponse({"status": "ok", "id": str(len(self.sms))})

    async def send_zalo(self, request: Request) -> Response:
        got, failure = await self._take(request)
        if failure is not None:
            return failure
        if got.headers.get("access_token") != self.zalo_token:
            return JSONResponse({"error": -124, "message": "Access token is invalid"})
        if not str(got.body.get("phone", "")).startswith("84") or "template_id" not in got.body:
            return JSONResponse({"error": -108, "message": "Phone number is invalid"})
        self.zalo.append(got.body)
        return JSONResponse({"error": 0, "message": "Success",
                             "data": {"msg_id": str(len(self.zalo))}})

    async def show(self, request: Request) -> Response:
        what = request.path_params["what"]
        held: Any = {"dossiers": self.dossiers, "progress": self.progress, "sms": self.sms,
                     "zalo": self.zalo}.get(what)
        return JSONResponse(held) if held is not None else Response(status_code=404)

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/_sim/{what}", self.show, methods=["GET"]),
            Route("/sms", self.send_sms, methods=["POST"]),
            Route("/message/template", self.send_zalo, methods=["POST"]),
            Route("/{service:str}", self.portal, methods=["POST"]),
        ])


def _invalid(item: Any, service: str) -> str | None:
    if not isinstance(item, dict) or not item.get("MaHoSo"):
        return "Thiếu MaHoSo"
    required = REQUIRED if service == "DongBoHoSoMC" else ("TrangThai", "ThoiDiemXuLy")
    missing = [k for k in required if k not in item]
    if missing:
        return f"Thiếu trường {', '.join(missing)}"
    wrong = [k for k in _DATE_FIELDS if k in item and not _DATE.match(str(item[k]))]
    return f"Sai định dạng ngày {', '.join(wrong)}" if wrong else None


class Served:
    """A simulator served by uvicorn on 127.0.0.1:`port` inside this event loop; `stop` and
    `start` again on the same port make an outage (connections refused meanwhile)."""

    def __init__(self, sim: Simulator, port: int) -> None:
        self.sim = sim
        self.port = port
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        config = uvicorn.Config(self.sim.app(), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                await self._task  # raises why it could not start
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None


@contextlib.asynccontextmanager
async def served(sim: Simulator, port: int) -> AsyncIterator[Served]:
    s = Served(sim, port)
    await s.start()
    try:
        yield s
    finally:
        await s.stop()
