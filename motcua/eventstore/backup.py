"""A backup of the whole motcua database that restores (issue 24.13), and its restore.

Everything a restore needs is in the database, so the backup is all of it, from one snapshot:
the event log and sequences, the register, users, sessions and login history, API tokens,
lookup hashes, catalog versions and activations, the notification outbox and delivery state,
the idempotency store, the audit of reads, and the read models with their projection
checkpoint (restored as they were, so no rebuild is needed). `pg_dump --format=custom` runs on
a snapshot we export (`pg_export_snapshot`), and the row count of every table is taken in the
same snapshot and written beside the dump (`<dump>.manifest.json`), so a restore can prove it
got every row.

The payload keys (`MOTCUA_PAYLOAD_KEYS`, `motcua.payload_codec`) are not in the database and
never in this dump: they are backed up apart (`write_keys`, a file of their own, or the
secret store's own versions), because a key that is destroyed (rotated out, or one day a
dossier's key erased) must not come back with a data backup kept longer than it. The manifest
names only the key ids the data needs; a restore refuses to start when they are not set.

A restore goes only into an empty database (it never overwrites one), in one transaction
that also renumbers the restored events into the new cluster's commit order (`_AFTER_RESTORE`)
and checks every row count against the manifest; then it applies the migrations this code has
and the dump does not. deploy/RUNBOOK.md, "Backup and restore of the database".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from motcua.devstack.postgres import client_path
from motcua.eventstore.migrate import migrate

FORMAT = "motcua-backup-1"


class BackupError(RuntimeError):
    """The backup or restore cannot be done as asked; the message says why (one line)."""


@dataclass(frozen=True)
class Manifest:
    """What a dump holds: row counts per table (same snapshot), the schema version, and the
    ids (never the material) of the payload keys its data needs."""

    format: str
    created_at: str
    schema_version: int
    tables: dict[str, int]
    payload_key_ids: list[str]

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(**data)
        except (OSError, ValueError, TypeError) as err:
            raise BackupError(f"{path}: not a backup manifest ({err})") from None
        if manifest.format != FORMAT:
            raise BackupError(f"{path}: format {manifest.format!r}, expected {FORMAT!r}")
        return manifest


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".manifest.json")


def _manifest_of(dump_file: Path) -> Manifest:
    if not dump_file.is_file():
        raise BackupError(f"{dump_file}: no such dump")
    return Manifest.read(manifest_path(dump_file))


def _client_env(dsn: str) -> tuple[str, dict[str, str]]:
    """The DSN without its password, and an environment carrying it (PGPASSWORD), so the
    password never shows in the process list."""
    parts = urlsplit(dsn)
    env = dict(os.environ)
    if parts.password is None:
        return dsn, env
    env["PGPASSWORD"] = unquote(parts.password)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), env


def _run(args: Sequence[str], env: dict[str, str]) -> None:
    result = subprocess.run(list(args), capture_output=True, check=False, env=env)
    if result.returncode != 0:
        last = result.stderr.decode(errors="replace").strip().splitlines()
        raise BackupError(f"{Path(args[0]).name} failed: {last[-1] if last else 'no output'}")


async def _counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Rows per table of the public schema (partitions and their parents alike)."""
    names = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    out: dict[str, int] = {}
    for row in names:
        name = row["tablename"]
        # The name comes from the catalog and is quoted: no injection possible.
        quoted = '"' + name.replace('"', '""') + '"'
        out[name] = int(await conn.fetchval(f"SELECT count(*) FROM public.{quoted}"))
    return out


async def dump(dsn: str, output: Path, *, payload_key_ids: Sequence[str],
               bin_dir: Path | None = None) -> Manifest:
    """Dump the whole database at `dsn` to `output` (custom format, readable only by its
    owner: it holds personal data) with its manifest; both replace older files only once
    complete."""
    pg_dump = (bin_dir / "pg_dump") if bin_dir else client_path("pg_dump")
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        output, partial = await asyncio.to_thread(_private_partial, output)
    except BaseException:
        await conn.close()
        raise
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            tables = await _counts(conn)
            if "events" not in tables:
                raise BackupError("no motcua database here (no events table): run "
                                  "`motcua migrate`, or check DATABASE_URL")
            version = await conn.fetchval("SELECT max(version) FROM schema_migrations")
            target, env = _client_env(dsn)
            await asyncio.to_thread(
                _run, [str(pg_dump), "--format=custom", "--no-owner", "--no-privileges",
                       f"--snapshot={snapshot}", f"--file={partial}", f"--dbname={target}"],
                env)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        await conn.close()
    manifest = Manifest(format=FORMAT, created_at=datetime.now(UTC).isoformat(),
                        schema_version=int(version or 0), tables=tables,
                        payload_key_ids=sorted(payload_key_ids))
    await asyncio.to_thread(_complete, manifest, partial, output)
    return manifest


def _private_partial(output: Path) -> tuple[Path, Path]:
    """`output` made absolute, and an empty `.partial` beside it readable by its owner only."""
    output = output.absolute()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return output, partial


def _complete(manifest: Manifest, partial: Path, output: Path) -> None:
    side = manifest_path(output)
    side_partial = side.with_name(side.name + ".partial")
    side_partial.write_text(json.dumps(asdict(manifest), indent=2, sort_keys=True) + "\n",
                            encoding="utf-8")
    os.replace(partial, output)
    os.replace(side_partial, side)


def write_keys(setting: str, output: Path, *, dump_file: Path | None = None) -> None:
    """The payload key setting to a file of its own (0600), never beside the data dump: the
    two are kept, copied and destroyed apart."""
    output = output.absolute()
    if dump_file is not None and output.parent == dump_file.absolute().parent:
        raise BackupError("keep the payload keys apart from the data: write them to another "
                          f"folder than {output.parent}")
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(setting + "\n")
    os.replace(partial, output)


async def restore(dsn: str, dump_file: Path, *, payload_key_ids: Sequence[str] | None,
                  bin_dir: Path | None = None) -> list[int]:
    """Restore `dump_file` into the empty database at `dsn` in one transaction that also moves
    the event log into the new cluster's commit order (`_AFTER_RESTORE`) and checks every
    table's row count against the manifest (any failure: nothing restored); then apply newer
    migrations (returned). `payload_key_ids`: the key ids set now (None: do not check)."""
    manifest = await asyncio.to_thread(_manifest_of, dump_file)
    if payload_key_ids is not None:
        missing = sorted(set(manifest.payload_key_ids) - set(payload_key_ids))
        if missing:
            raise BackupError(f"the data needs payload keys {', '.join(missing)}, not set in "
                              "MOTCUA_PAYLOAD_KEYS: restore them from their own backup first")
    bins = bin_dir or client_path("pg_restore").parent
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        present = await conn.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        if present:
            raise BackupError("the target database is not empty (it has tables): restore "
                              "into a new database")
        target, env = _client_env(dsn)
        tail = _AFTER_RESTORE + _count_checks(manifest.tables)
        await asyncio.to_thread(_pipe_restore, bins, dump_file, target, env, tail)
        await conn.execute("ANALYZE")
        return await migrate(conn)
    finally:
        await conn.close()


# Run after the dump's own statements, in the same transaction. The projector and the outbox
# read events in commit order, `(tx_id, global_position)`, up to checkpoints of that order
# (`motcua.eventstore.projector`). Restored rows keep the transaction ids of the old cluster,
# which a new cluster has not reached: its new events would sort before them and never be read
# (tested). So the restored events get ids below any the new cluster will give, keeping exactly
# what each checkpoint had read: events read by the k-th checkpoint (in order) and not by the
# one before get id k, unread ones the restore's own id; each checkpoint then points at the
# last event of its class. Within a class the order is the global position, which within a
# stream is the append order.
_AFTER_RESTORE = """
SET search_path = public;
CREATE TEMP TABLE restored_checkpoints ON COMMIT DROP AS
    SELECT name, tx_id, global_position,
           row_number() OVER (ORDER BY tx_id, global_position, name)::integer AS rank
    FROM projection_checkpoints;
DO $restore$ BEGIN
    IF (SELECT count(*) FROM restored_checkpoints)::text::xid8 >= pg_current_xact_id() THEN
        RAISE EXCEPTION 'too many checkpoints to renumber below this transaction';
    END IF;
END $restore$;
ALTER TABLE events DISABLE TRIGGER events_no_update_delete;
UPDATE events e SET tx_id = coalesce(
    (SELECT min(c.rank) FROM restored_checkpoints c
     WHERE (e.tx_id, e.global_position) <= (c.tx_id, c.global_position))::text::xid8,
    pg_current_xact_id());
ALTER TABLE events ENABLE TRIGGER events_no_update_delete;
UPDATE projection_checkpoints p SET tx_id = c.rank::text::xid8, global_position = coalesce(
    (SELECT max(e.global_position) FROM events e WHERE e.tx_id = c.rank::text::xid8), 0)
FROM restored_checkpoints c WHERE c.name = p.name;
"""
_TABLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _count_checks(tables: dict[str, int]) -> str:
    """SQL failing the transaction unless every table has the manifest's row count."""
    checks = []
    for name, rows in sorted(tables.items()):
        if not _TABLE.match(name):
            raise BackupError(f"manifest: {name[:70]!r} is not a table name of ours")
        checks.append(f"IF (SELECT count(*) FROM public.{name}) <> {int(rows)} THEN "
                      f"RAISE EXCEPTION 'restored rows differ from the manifest: {name}'; "
                      "END IF;")
    return "DO $check$ BEGIN\n" + "\n".join(checks) + "\nEND $check$;\n"


def _pipe_restore(bins: Path, dump_file: Path, target: str, env: dict[str, str],
                  tail: str) -> None:
    """pg_restore's SQL, then `tail`, through one psql transaction (ON_ERROR_STOP)."""
    psql = subprocess.Popen(
        [str(bins / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
         f"--dbname={target}", "-f", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert psql.stdin is not None and psql.stderr is not None
    dumped = subprocess.run(
        [str(bins / "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
         "-f", "-", str(dump_file)], stdout=psql.stdin, stderr=subprocess.PIPE, env=env,
        check=False)
    if dumped.returncode == 0:
        with contextlib.suppress(BrokenPipeError):  # psql stopped at an error: see stderr
            psql.stdin.write(tail.encode())
    else:
        # psql has not seen the end of the script: interrupt it so nothing commits.
        psql.kill()
    psql.stdin.close()
    errors = psql.stderr.read().decode(errors="replace").strip().splitlines()
    psql.wait()
    if dumped.returncode != 0:
        last = dumped.stderr.decode(errors="replace").strip().splitlines()
        raise BackupError(f"pg_restore failed: {last[-1] if last else 'no output'}")
    if psql.returncode != 0:
        first = next((e for e in errors if "ERROR:" in e), errors[-1] if errors else "")
        raise BackupError(f"psql failed (nothing restored): {first or 'no output'}")
