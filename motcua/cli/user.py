"""`motcua user create|disable|reset-password|list`: manage the console's users.

    motcua user create --name lan --role clerk [--role leader] --unit U [--full-name "Trần Thị Lan"]
                       [--counter 1]
    motcua user disable --name lan
    motcua user reset-password --name lan
    motcua user list

`create` and `reset-password` print the new password (and nothing else) on stdout, unless
MOTCUA_USER_PASSWORD gives one (never on the command line, where `ps` would show it). A
disabled user's sessions end at once; a reset also clears a lockout. Errors go to stderr with
exit status 1 (2 for usage errors). The database is the one in DATABASE_URL, migrated.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable

import asyncpg

from motcua.access.tokens import Role
from motcua.access.users import (
    UserError,
    create_user,
    disable_user,
    list_users,
    new_password,
    reset_password,
)
from motcua.cli import db
from motcua.config import Settings
from motcua.runtime import unknown_unit

PASSWORD_ENV = "MOTCUA_USER_PASSWORD"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua user", description="Manage console users.")
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="create a user and print its password")
    create.add_argument("--name", required=True, help="the login name; recorded as the actor")
    create.add_argument("--role", action="append", required=True,
                        help=f"one of {', '.join(r.value for r in Role)}; repeat or "
                        "comma-separate for several")
    create.add_argument("--unit", help="the user's unit (required for kiosk; none = all units)")
    create.add_argument("--full-name", default="", help="shown in the console")
    create.add_argument("--counter", help="the counter (quầy) a clerk serves at or a kiosk "
                        "stands at: the kiosk offers the dossier just returned there")
    disable = sub.add_parser("disable", help="disable a user and end its sessions")
    disable.add_argument("--name", required=True)
    reset = sub.add_parser("reset-password", help="set a new password and print it")
    reset.add_argument("--name", required=True)
    sub.add_parser("list", help="list active users")
    return parser


def _check_unit(unit: str | None, settings: Settings) -> None:
    problem = unknown_unit(unit, settings)
    if problem:
        raise UserError(problem)


def main(argv: list[str]) -> int:
    """Run `motcua user ...` with `argv` (the words after `user`); returns the exit status."""
    args = _parser().parse_args(argv)
    settings = Settings()
    password = os.environ.get(PASSWORD_ENV) or new_password()

    async def create(conn: asyncpg.Connection) -> int:
        _check_unit(args.unit, settings)
        roles = [r.strip() for value in args.role for r in value.split(",") if r.strip()]
        await create_user(conn, username=args.name, password=password, roles=roles,
                          unit_code=args.unit, full_name=args.full_name,
                          counter=args.counter)
        print(password)
        return 0

    async def disable(conn: asyncpg.Connection) -> int:
        if not await disable_user(conn, args.name):
            raise UserError(f"no active user named {args.name!r}")
        print(f"disabled {args.name}", file=sys.stderr)
        return 0

    async def reset(conn: asyncpg.Connection) -> int:
        if not await reset_password(conn, args.name, password):
            raise UserError(f"no user named {args.name!r}")
        print(password)
        return 0

    async def show(conn: asyncpg.Connection) -> int:
        for user in await list_users(conn):
            print(f"{user.username}\t{','.join(sorted(user.roles))}\t{user.unit_code or '*'}\t"
                  f"{user.full_name}")
        return 0

    work: Callable[[asyncpg.Connection], Awaitable[int]] = {
        "create": create, "disable": disable, "reset-password": reset, "list": show,
    }[args.action]

    return db.run("motcua user", settings, work, refusals=(UserError,))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
