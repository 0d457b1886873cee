"""The file service: upload, list, read, reuse and erase. One layer that the API, the console
and the CLI call alike; it raises its own errors (`FileError` and subclasses) and knows
nothing of HTTP.

Order of an upload, so that a refusal leaves nothing behind: check the bytes (type by content,
real page count), encrypt under the dossier's key, store the blob, then record the
`FileAttached` event through the workflow's `attach_file` update (which checks the dossier's
state). When the update is refused, the blob is deleted again; an event never points at a blob
that was not stored first.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import structlog
from pyhanko.pdf_utils.misc import PdfError
from temporalio.client import Client

from domain import commands as cmd
from domain import events as ev
from domain.envelope import EventEnvelope
from motcua import dossiers
from motcua.eventstore.store import read_stream
from motcua.files import content, crypto
from motcua.files.keys import KeyErased, KeyStore
from motcua.files.signing import Signer
from motcua.files.store import BlobMissing, FileStore
from workflows import Acted

log = structlog.get_logger(__name__)


class FileError(Exception):
    """A request about a file the service refuses; `reason` is for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooLarge(FileError):
    pass


class Erased(FileError):
    """The dossier's key was destroyed (erasure); its files are gone for good."""


class NoSuchFile(FileError):
    pass


@dataclass(frozen=True, kw_only=True)
class Upload:
    """What the clerk says about a file; the bytes say the rest."""

    code: str
    name: str
    kind: str
    pages: int
    actor: str
    purpose: str = "component"
    digitised: bool = True
    from_national_store: bool = False
    correlation_id: str | None = None


def blob_key(code: str, file_id: str) -> str:
    return f"{code}/{file_id}"


def attached(events: list[EventEnvelope]) -> list[ev.FileAttached]:
    """The files recorded on a dossier, in the order recorded."""
    return [e.event for e in events if isinstance(e.event, ev.FileAttached)]


async def attach(client: Client, code: str, command: cmd.AttachFile, *,
                 rpc_timeout: timedelta | None = None) -> Acted:
    """Record `command` on the dossier through its workflow (the action `attach-file`, patch
    `dossier-files-v1`); `CommandRejected` when refused. The update id is the file id: a retry
    records it once."""
    return await dossiers.act_with_events(client, code, "attach-file", command,
                                          update_id=f"file:{command.file_id}",
                                          rpc_timeout=rpc_timeout)


Bound = Callable[[Awaitable[Acted]], Awaitable[Acted]]


async def _as_is(call: Awaitable[Acted]) -> Acted:
    return await call


class Files:
    """The service, over a pool (events, audit), the key store and the file store."""

    def __init__(self, *, pool: asyncpg.Pool, keys: KeyStore, store: FileStore,
                 max_bytes: int) -> None:
        self.pool = pool
        self.keys = keys
        self.store = store
        self.max_bytes = max_bytes

    async def add(self, client: Client, upload: Upload, data: bytes, *,
                  reused_from: str | None = None,
                  rpc_timeout: timedelta | None = None,
                  bound: Bound = _as_is, file_id: str | None = None) -> ev.FileAttached:
        """Check, encrypt, store and record one file; the recorded event. `bound` wraps the
        call to the engine alone (the API's time limit and error mapping), so a large PDF's
        parsing is not counted against it. `file_id`, when given (derived from an
        Idempotency-Key), makes a retry store the same blob and run the same update, which
        Temporal records once."""
        if len(data) > self.max_bytes:
            raise TooLarge(f"the file has {len(data)} bytes; the limit is {self.max_bytes}")
        # pypdf parses in pure Python: off the event loop.
        media_type, pages = await asyncio.to_thread(content.check, data, upload.pages)
        file_id = file_id or str(uuid.uuid4())
        key = await self._key(upload.code, create=True)
        if key is None:  # never: a key is made when missing
            raise Erased("no key could be made for this dossier")
        place = blob_key(upload.code, file_id)
        await self.store.put(place, crypto.seal(key, data, place))
        command = cmd.AttachFile(
            file_id=file_id, name=upload.name, kind=upload.kind, pages=pages,
            sha256=hashlib.sha256(data).hexdigest(), size=len(data), media_type=media_type,
            purpose=upload.purpose, digitised=upload.digitised and reused_from is None,
            reused=reused_from is not None, from_national_store=upload.from_national_store,
            reused_from=reused_from, actor=upload.actor, correlation_id=upload.correlation_id)
        try:
            acted = await bound(attach(client, upload.code, command, rpc_timeout=rpc_timeout))
        except BaseException:
            # Refused, or the engine is down: nothing may point at this blob, remove it. (A
            # timeout whose update still lands later leaves an event whose read answers 404;
            # the clerk uploads again.)
            await self.store.delete_prefix(place)
            raise
        log.info("file.attached", code=upload.code, file_id=file_id, size=len(data),
                 media_type=media_type, purpose=upload.purpose, reused=reused_from is not None)
        for envelope in acted.appended:
            if isinstance(envelope.event, ev.FileAttached):
                return envelope.event
        # The update had run before (same id): the event is in the stream already.
        return next(f for f in await self.files(upload.code) if f.file_id == file_id)

    async def files(self, code: str) -> list[ev.FileAttached]:
        return attached(await read_stream(self.pool, code))

    async def read(self, code: str, file_id: str) -> tuple[ev.FileAttached, bytes]:
        """A file's description and its plain bytes; `NoSuchFile`, `Erased`."""
        found = [f for f in await self.files(code) if f.file_id == file_id]
        if not found:
            raise NoSuchFile("no such file on this dossier")
        key = await self._key(code, create=False)
        if key is None:
            raise NoSuchFile("no such file on this dossier")
        place = blob_key(code, file_id)
        try:
            sealed = await self.store.get(place)
        except BlobMissing as err:
            raise NoSuchFile("the file's bytes are missing from the store") from err
        data = crypto.open_sealed(key, sealed, place)
        return found[0], data

    async def reuse(self, client: Client, *, source: str, file_id: str, upload: Upload,
                    rpc_timeout: timedelta | None = None,
                    bound: Bound = _as_is) -> ev.FileAttached:
        """Attach a copy of `source`'s file to `upload.code`, re-encrypted under that
        dossier's key (erasing one dossier never breaks the other), its read audited.
        The caller has checked that both dossiers are in the actor's unit scope."""
        original, data = await self.read(source, file_id)
        await self.pool.execute(
            "INSERT INTO file_reads (code, file_id, read_by, purpose, into_code) "
            "VALUES ($1, $2, $3, 'reuse', $4)", source, file_id, upload.actor, upload.code)
        again = Upload(code=upload.code, name=upload.name or original.name,
                       kind=upload.kind or original.kind, pages=original.pages,
                       actor=upload.actor, correlation_id=upload.correlation_id,
                       from_national_store=original.from_national_store)
        return await self.add(client, again, data, reused_from=source, rpc_timeout=rpc_timeout,
                              bound=bound)

    async def issue_result(self, client: Client, *, code: str, pdf: bytes, signer: Signer,
                           actor: str, location: str, correlation_id: str | None = None,
                           complete: Callable[[], Awaitable[object]] | None = None,
                           rpc_timeout: timedelta | None = None,
                           bound: Bound = _as_is) -> ev.FileAttached:
        """Sign `pdf` (rendered or uploaded) and record it as the dossier's result: the signed
        bytes stored like any file, the `FileAttached` event (purpose result) carrying their
        SHA-256. `complete`, when given, completes the dossier between signing and recording:
        a signer that fails leaves the dossier processing, a record that fails leaves it ready
        (and the result is issued again)."""
        if content.media_type(pdf) != content.PDF:
            raise content.ContentRefused("a result must be a PDF", unsupported=True)
        if len(pdf) > self.max_bytes:
            raise TooLarge(f"the file has {len(pdf)} bytes; the limit is {self.max_bytes}")
        await asyncio.to_thread(content.page_count, pdf, content.PDF)  # readable at all?
        try:
            signed = await signer.sign(pdf, reason=f"Kết quả giải quyết hồ sơ {code}",
                                       location=location)
        except PdfError as err:  # readable by pypdf, yet not by pyHanko's incremental writer
            raise content.ContentRefused(f"the PDF cannot be signed: {err}") from err
        if complete is not None:
            await complete()
        pages = await asyncio.to_thread(content.page_count, signed, content.PDF)
        upload = Upload(code=code, name="Kết quả giải quyết", kind="original", pages=pages,
                        actor=actor, purpose="result", correlation_id=correlation_id)
        return await self.add(client, upload, signed, rpc_timeout=rpc_timeout, bound=bound)

    async def result(self, code: str) -> tuple[ev.FileAttached, bytes] | None:
        """The dossier's latest signed result and its bytes, None before one is issued."""
        results = [f for f in await self.files(code) if f.purpose == "result"]
        if not results:
            return None
        return await self.read(code, results[-1].file_id)

    async def erase(self, code: str, *, reason: str, operator: str) -> int:
        """Destroy the dossier's key (its files become unreadable for good, in every backup
        of the data), delete its blobs, and record who did it and why. Returns the number of
        blobs deleted."""
        if not reason.strip():
            raise FileError("an erasure needs a reason")
        await self.keys.destroy(code)
        deleted = await self.store.delete_prefix(f"{code}/")
        await self.pool.execute(
            "INSERT INTO dossier_erasures (code, reason, erased_by, blobs_deleted) "
            "VALUES ($1, $2, $3, $4)", code, reason.strip(), operator, deleted)
        log.info("dossier.erased", code=code, operator=operator, blobs_deleted=deleted)
        return deleted

    async def _key(self, code: str, *, create: bool) -> bytes | None:
        try:
            return await self.keys.key_for(code, create=create)
        except KeyErased as err:
            raise Erased("this dossier's files were erased (Decree 13/2023/NĐ-CP)") from err
