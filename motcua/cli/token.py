"""`motcua token create|revoke|list`: manage the API's bearer tokens.

    motcua token create --name linh --role clerk [--role leader | --role clerk,leader] [--unit U]
                        [--expires-in-days N]
    motcua token revoke --name linh
    motcua token list    (name, roles, unit, created, active/revoked/expires, last used)

`create` prints the token (and nothing else) on stdout: it is shown once and stored only as a
hash. Errors go to stderr with exit status 1 (2 for usage errors). The database is the one in
DATABASE_URL and must be migrated (`motcua migrate`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

import asyncpg

from motcua.access.tokens import Role, TokenError, create_token, list_tokens, revoke_token
from motcua.cli import db
from motcua.config import Settings
from motcua.runtime import unknown_unit


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua token", description="Manage API tokens.")
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="create a token and print it (shown once)")
    create.add_argument("--name", required=True, help="who uses it; recorded as the actor")
    create.add_argument("--role", action="append", required=True,
                        help=f"one of {', '.join(r.value for r in Role)}; repeat or "
                        "comma-separate for several")
    create.add_argument("--unit", help="limit the token to this unit's dossiers")
    create.add_argument("--expires-in-days", type=int, metavar="N",
                        help="refuse the token N days from now (default: never)")
    revoke = sub.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("--name", required=True)
    sub.add_parser("list", help="list tokens (never their secrets)")
    return parser


def _check_unit(unit: str | None, settings: Settings) -> None:
    problem = unknown_unit(unit, settings)
    if problem:
        raise TokenError(problem)


def main(argv: list[str]) -> int:
    """Run `motcua token ...` with `argv` (the words after `token`); returns the exit status."""
    args = _parser().parse_args(argv)
    settings = Settings()

    async def create(conn: asyncpg.Connection) -> int:
        _check_unit(args.unit, settings)
        roles = [r.strip() for value in args.role for r in value.split(",") if r.strip()]
        expires = None
        if args.expires_in_days is not None:
            if args.expires_in_days < 1:
                raise TokenError("--expires-in-days must be at least 1")
            expires = datetime.now(UTC) + timedelta(days=args.expires_in_days)
        print(await create_token(conn, name=args.name, roles=roles, unit_code=args.unit,
                                 expires_at=expires))
        return 0

    async def revoke(conn: asyncpg.Connection) -> int:
        if not await revoke_token(conn, args.name):
            raise TokenError(f"no active token named {args.name!r}")
        print(f"revoked {args.name}", file=sys.stderr)
        return 0

    async def show(conn: asyncpg.Connection) -> int:
        for row in await list_tokens(conn):
            state = f"revoked {row['revoked_at']:%Y-%m-%d}" if row["revoked_at"] else "active"
            if not row["revoked_at"] and row["expires_at"] is not None:
                past = row["expires_at"] <= datetime.now(UTC)
                state = f"{'expired' if past else 'expires'} {row['expires_at']:%Y-%m-%d %H:%M}"
            used = (f"last used {row['last_used_at']:%Y-%m-%d %H:%M}" if row["last_used_at"]
                    else "never used")
            print(f"{row['name']}\t{','.join(row['roles'])}\t{row['unit_code'] or '*'}\t"
                  f"created {row['created_at']:%Y-%m-%d}\t{state}\t{used}")
        return 0

    work = {"create": create, "revoke": revoke, "list": show}[args.action]
    return db.run("motcua token", settings, work, refusals=(TokenError,))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
