"""`motcua dossier erase CODE --reason ...`: erase a dossier's files (Decree 13/2023/NĐ-CP).

    motcua dossier erase 000.21.39.H39-261207-0001 --reason "yêu cầu xóa dữ liệu số 12/2026"

Destroys the dossier's data key in the key store (so every copy of its files, in the file store
and in any backup of the data, is unreadable for good), deletes its blobs, and records the
operator, time and reason in `dossier_erasures`. The operator is the login name running the
command unless `--operator` says otherwise. Step 1 of the erasure plan (README): the files; the
particulars in the events are not erased here. Errors go to stderr with exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

import asyncpg

from motcua.config import Settings
from motcua.files import setup
from motcua.files.service import FileError
from motcua.files.settings import FileSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua dossier",
                                     description="Operator commands on one dossier.")
    sub = parser.add_subparsers(dest="action", required=True)
    erase = sub.add_parser("erase", help="destroy the dossier's key: its files become "
                           "unreadable for good (audited)")
    erase.add_argument("code")
    erase.add_argument("--reason", required=True, help="why (the request's reference)")
    erase.add_argument("--operator", default=None, help="recorded as who erased "
                       "(default: the login name)")
    return parser


async def erase(settings: Settings, files: FileSettings, code: str, *, reason: str,
                operator: str) -> int:
    """Erase `code`'s files; returns the number of blobs deleted."""
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2,
                                     timeout=10)
    own = None
    try:
        service, own = await setup.build(files, pool)
        return await service.erase(code, reason=reason, operator=operator)
    finally:
        if own is not None:
            await own.close()
        await pool.close()


def main(argv: list[str]) -> int:
    """Run `motcua dossier ...` with `argv`; returns the exit status."""
    args = _parser().parse_args(argv)
    operator = args.operator or getpass.getuser()
    try:
        deleted = asyncio.run(erase(Settings(), FileSettings(), args.code,
                                    reason=args.reason, operator=operator))
    except (FileError, setup.NotConfigured) as err:
        print(f"motcua dossier: {err}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        print(f"motcua dossier: cannot use the database: {err}", file=sys.stderr)
        return 1
    print(f"erased {args.code}: key destroyed, {deleted} blob(s) deleted", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
