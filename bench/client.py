"""A light HTTP/1.1 client for the load generator: keep-alive connections over asyncio streams,
requests written as one bytes string, answers read by Content-Length (or chunks).

Why not httpx: the profiles showed the load generator paying more CPU per lifecycle than the
API's Temporal client (16.4 ms of the bench process per lifecycle against 6.8 ms for bare's
Temporal client, on two cores shared with what is measured): httpx builds a request, a
response, header and URL objects, a transport and a connection-pool lookup per call. Here a
request is one f-string, an answer a status, the headers the client needs and the body. Only
what the benchmarks send to the API and the metrics endpoints: no TLS, no redirects, no
compression, no proxies. `Answer` has the subset of httpx's `Response` they read.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit


class ApiError(Exception):
    """No answer: connection refused or reset, the server closed it, or the timeout passed."""


@dataclass(frozen=True, slots=True)
class Answer:
    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise ApiError(f"answered {self.status_code}: {self.text[:300]}")


_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Api:
    """Keep-alive connections to one `base_url` (http only), at most `connections` at once;
    `headers` go with every request. Use as `async with Api(...) as api:`."""

    def __init__(self, base_url: str, *, headers: Mapping[str, str] | None = None,
                 connections: int = 64, timeout: float = 60.0) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or url.hostname is None:
            raise ValueError(f"only http://host:port URLs: {base_url}")
        self._host, self._port = url.hostname, url.port or 80
        self._prefix = url.path.rstrip("/")
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self._head = f"Host: {url.netloc}\r\n{extra}"
        self._idle: list[_Conn] = []
        self._slots = asyncio.Semaphore(connections)
        self._timeout = timeout

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, err: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()

    async def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> Answer:
        if params:
            path += "?" + urlencode(params, doseq=True)
        return await self.request("GET", path)

    async def post(self, path: str, *, json: Any = None) -> Answer:
        body = jsonlib.dumps(json, ensure_ascii=False).encode() if json is not None else b""
        return await self.request("POST", path, body)

    async def request(self, method: str, path: str, body: bytes = b"") -> Answer:
        head = (f"{method} {self._prefix}{path} HTTP/1.1\r\n{self._head}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
        data = head.encode() + body
        async with self._slots:
            try:
                async with asyncio.timeout(self._timeout):
                    return await self._exchange(data)
            except TimeoutError as err:
                raise ApiError(f"{method} {path}: no answer in {self._timeout} s") from err

    async def _exchange(self, data: bytes) -> Answer:
        # A kept-alive connection the server has closed meanwhile (uvicorn closes idle ones
        # after 5 s) fails before any byte of an answer: then, and only then, try a new one,
        # as the request cannot have been read.
        while self._idle:
            conn = self._idle.pop()
            try:
                return await self._send(conn, data)
            except _Unanswered:
                conn[1].close()
        try:
            conn = await asyncio.open_connection(self._host, self._port)
        except OSError as err:
            raise ApiError(f"cannot connect to {self._host}:{self._port}: {err}") from err
        try:
            return await self._send(conn, data)
        except _Unanswered as err:
            conn[1].close()
            raise ApiError(str(err.__cause__ or "connection closed before an answer")) from err

    async def _send(self, conn: _Conn, data: bytes) -> Answer:
        reader, writer = conn
        try:
            writer.write(data)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
        except (OSError, asyncio.IncompleteReadError) as err:
            raise _Unanswered from err
        except BaseException:  # cancelled (the timeout): the connection is mid-exchange
            writer.close()
            raise
        try:
            status, length, chunked, close = _parse_head(head)
            if chunked:
                content = await _read_chunks(reader)
            else:
                content = await reader.readexactly(length) if length else b""
        except (OSError, asyncio.IncompleteReadError, ValueError) as err:
            writer.close()
            raise ApiError(f"broken answer: {err}") from err
        except BaseException:
            writer.close()
            raise
        if close:
            writer.close()
        else:
            self._idle.append(conn)
        return Answer(status, content)


class _Unanswered(Exception):
    """The connection failed before the first byte of an answer."""


def _parse_head(head: bytes) -> tuple[int, int, bool, bool]:
    """(status, content length, chunked, connection closes) from a response head."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    # HTTP/1.0 servers (wsgiref, behind the worker's and projector's /metrics) close after
    # each answer.
    length, chunked, close = 0, False, lines[0].startswith("HTTP/1.0")
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            chunked = "chunked" in value.lower()
        elif name == "connection":
            close = value.strip().lower() == "close"
    return status, length, chunked, close


async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are sent to us
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
