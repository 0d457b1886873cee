"""What every database subcommand shares: connect to DATABASE_URL, run, close, and turn the
database's errors into one line on stderr instead of a traceback.

    return db.run("motcua user", settings, work, refusals=(UserError,))

`work` receives an open connection and returns the exit status. A `refusals` exception (the
command's own "no such user", "unknown unit") prints as `<prog>: <message>` and exits 1, as do
an unmigrated database and an unreachable one.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

from motcua.config import Settings

T = TypeVar("T")
Work = Callable[[asyncpg.Connection], Awaitable[T]]


async def connected(settings: Settings, work: Work[T]) -> T:
    """Run `work` on a fresh connection to DATABASE_URL and close it whatever happens."""
    conn = await asyncpg.connect(settings.database_url, timeout=10)
    try:
        return await work(conn)
    finally:
        await conn.close()


def database_problem(err: BaseException) -> str | None:
    """The one line a person reads for a database failure, or None if `err` is not one."""
    if isinstance(err, asyncpg.UndefinedTableError):
        return f"the database is not migrated ({err}); run `motcua migrate` first"
    if isinstance(err, OSError | asyncpg.PostgresError | asyncpg.InterfaceError):
        return f"cannot use the database at DATABASE_URL: {err}"
    return None


def run(prog: str, settings: Settings, work: Work[int], *,
        refusals: tuple[type[Exception], ...] = ()) -> int:
    """Connect, run `work`, close; its refusals and database failures become one line and
    exit status 1."""
    try:
        return asyncio.run(connected(settings, work))
    except refusals as err:
        print(f"{prog}: {err}", file=sys.stderr)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as err:
        print(f"{prog}: {database_problem(err)}", file=sys.stderr)
    return 1
