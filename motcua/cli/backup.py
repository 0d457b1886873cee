"""`motcua backup` and `motcua restore`: the whole database, from one snapshot, and back into an
empty one (`motcua.eventstore.backup`; deploy/RUNBOOK.md, "Backup and restore").

    motcua backup --output /backups/motcua-2026-12-07.dump [--keys-output /secrets/keys]
    motcua restore /backups/motcua-2026-12-07.dump

The database is the one in DATABASE_URL. `backup` writes the dump (0600: it holds personal
data) and `<dump>.manifest.json` (row counts, schema version, payload key ids). The payload keys
are not in the dump; `--keys-output` writes MOTCUA_PAYLOAD_KEYS to a file of its own, in another
folder, to be kept (and destroyed) apart from the data. `restore` refuses a database that has
tables, and refuses to start unless MOTCUA_PAYLOAD_KEYS holds every key id the data needs
(`--skip-key-check` to restore anyway, e.g. on a machine that will never run the worker).
Errors are one line on stderr, exit status 1 (2 for usage errors).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import asyncpg

from motcua.cli.args import Parser, UsageError
from motcua.config import Settings
from motcua.eventstore.backup import BackupError, dump, restore, write_keys
from motcua.payload_codec import PayloadKeyError, keyring_from


def _key_ids(settings: Settings) -> list[str] | None:
    setting = settings.payload_keys.get_secret_value() if settings.payload_keys else None
    keyring = keyring_from(setting)
    return sorted(keyring.keys) if keyring else None


def _fail(prog: str, message: str) -> int:
    print(f"{prog}: {message}", file=sys.stderr)
    return 1


def main_backup(argv: list[str]) -> int:
    parser = Parser(prog="motcua backup", description="Dump the whole database (one snapshot).")
    parser.add_argument("--output", required=True, type=Path, help="the dump file to write")
    parser.add_argument("--keys-output", type=Path,
                        help="also write MOTCUA_PAYLOAD_KEYS to this file (another folder)")
    parser.add_argument("--bin-dir", type=Path,
                        help="folder of pg_dump matching the server (default: the embedded one)")
    try:
        args = parser.parse_args(argv)
    except UsageError as err:
        print(f"motcua backup: error: {err}", file=sys.stderr)
        return 2
    try:
        settings = Settings()
        ids = _key_ids(settings)
        if args.keys_output:
            if settings.payload_keys is None:
                return _fail("motcua backup", "--keys-output: MOTCUA_PAYLOAD_KEYS is not set")
            write_keys(settings.payload_keys.get_secret_value(), args.keys_output,
                       dump_file=args.output)
        manifest = asyncio.run(dump(settings.database_url, args.output,
                                    payload_key_ids=ids or [], bin_dir=args.bin_dir))
    except (BackupError, PayloadKeyError, OSError, asyncpg.PostgresError) as err:
        return _fail("motcua backup", str(err))
    print(f"backed up {sum(manifest.tables.values())} rows of {len(manifest.tables)} tables "
          f"to {args.output} (schema {manifest.schema_version})")
    return 0


def main_restore(argv: list[str]) -> int:
    parser = Parser(prog="motcua restore", description="Restore a dump into an empty database.")
    parser.add_argument("dump", type=Path, help="a file written by `motcua backup`")
    parser.add_argument("--skip-key-check", action="store_true",
                        help="restore even when MOTCUA_PAYLOAD_KEYS lacks the data's key ids")
    parser.add_argument("--bin-dir", type=Path,
                        help="folder of pg_restore (default: the embedded one)")
    try:
        args = parser.parse_args(argv)
    except UsageError as err:
        print(f"motcua restore: error: {err}", file=sys.stderr)
        return 2
    try:
        settings = Settings()
        ids = None if args.skip_key_check else (_key_ids(settings) or [])
        applied = asyncio.run(restore(settings.database_url, args.dump, payload_key_ids=ids,
                                      bin_dir=args.bin_dir))
    except (BackupError, PayloadKeyError, OSError, asyncpg.PostgresError) as err:
        return _fail("motcua restore", str(err))
    print(f"restored {args.dump}" + (f"; applied migrations {applied}" if applied else ""))
    return 0
