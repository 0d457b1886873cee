"""`motcua catalog`: a province's published procedure list into the versioned catalog.

    motcua catalog import FILE [--steps FILE] [--activate] [--by NAME]
                                          validate, store a version, show the diff
    motcua catalog activate VERSION [--by NAME]           make a stored version the active one
    motcua catalog export FILE [--steps FILE] [--version VERSION]
                                          write the import format (CSV/XLSX)
    motcua catalog versions                               list stored versions

The file format is documented in `motcua.catalog.io` and docs/catalog-and-whatif.md. Import
validates every row and lists all errors at once (exit 2, nothing stored); it shows the diff
against the active
catalog and stores the new version without activating it unless `--activate` is given: making a
new list active is its own, explicit step. A code of the active catalog that the file drops
outright is refused: dossiers opened under it must stay resolvable, so keep it as a retired row
(`replaced_by`, `retired_source`). The receiving units are carried over from the active version.

Internal procedures (steps) travel in the XLSX file's ``steps`` sheet, or for CSV in a second
file (``--steps FILE``; by default ``<name>.steps.csv`` beside the list, which export writes
and import reads when present). A procedure whose steps do not add up to its applied time is
refused, naming its row and its step rows (`motcua.catalog.steps_io`).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path

import asyncpg

from motcua.catalog import store as catalog_store
from motcua.catalog.io import (
    CatalogFileError,
    diff,
    read_procedures,
    write_procedures,
)
from motcua.catalog.source import catalog_of
from motcua.catalog.steps_io import steps_path_for
from motcua.cli.args import Parser, UsageError
from motcua.config import Settings
from motcua.eventstore.migrate import migrate
from motcua.runtime import catalog_for

PROG = "motcua catalog"


def _parser() -> Parser:
    parser = Parser(prog=PROG, description="Import, activate and export the procedure catalog.")
    sub = parser.add_subparsers(dest="action", required=True)
    imp = sub.add_parser("import", help="validate a CSV/XLSX list and store it as a version")
    imp.add_argument("file", type=Path)
    imp.add_argument("--activate", action="store_true", help="also make it the active catalog")
    imp.add_argument("--by", default=None, help="who imports (default: the OS user)")
    imp.add_argument("--working-day-hours", type=int, default=None,
                     help="hours in a working day for fractional days (default: "
                     "MOTCUA_WORKING_DAY_HOURS, 8)")
    imp.add_argument("--steps", type=Path, default=None,
                     help="the internal procedures (steps) of a CSV list (default: "
                     "<name>.steps.csv beside it if present; XLSX: the 'steps' sheet)")
    act = sub.add_parser("activate", help="make a stored version the active catalog")
    act.add_argument("version")
    act.add_argument("--by", default=None)
    exp = sub.add_parser("export", help="write a version in the import format")
    exp.add_argument("file", type=Path)
    exp.add_argument("--version", default=None, help="default: the active version")
    exp.add_argument("--steps", type=Path, default=None,
                     help="where a CSV export writes the steps (default: <name>.steps.csv)")
    sub.add_parser("versions", help="list the stored versions")
    return parser


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    # The file first: a bad one is refused before anything touches the database.
    procedures = read_procedures(
        args.file, args.working_day_hours or settings.working_day_hours, args.steps) \
        if args.action == "import" else {}
    conn = await asyncpg.connect(settings.database_url)
    try:
        await migrate(conn)
        active_version = await catalog_store.ensure_seeded(conn, catalog_for(settings))
        active = await catalog_store.load(conn, active_version)
        action = args.action
        actor = getattr(args, "by", None) or getpass.getuser()
        if action == "import":
            dropped = sorted(set(active.procedures) - set(procedures))
            if dropped:
                raise UsageError(f"the file drops code(s) {', '.join(dropped)} of the active "
                                 "catalog: keep each as a retired row (replaced_by, "
                                 "retired_source) so dossiers opened under it stay resolvable")
            new = catalog_of(procedures, dict(active.units))
            for line in diff(active.procedures, new.procedures).lines():
                print(line)
            stored = await catalog_store.import_version(
                conn, new, origin=str(args.file), actor=actor)
            print(f"version {new.version} {'stored' if stored else 'already stored'}")
            if args.activate:
                await catalog_store.activate(conn, new.version, actor=actor)
                print(f"version {new.version} is now active")
            elif new.version != active.version:
                print(f"activate it with: motcua catalog activate {new.version}")
        elif action == "activate":
            await catalog_store.activate(conn, args.version, actor=actor)
            print(f"version {args.version} is now active")
        elif action == "export":
            version = args.version or active_version
            catalog = await catalog_store.load(conn, version)
            count = write_procedures(args.file, catalog.procedures.values(), args.steps)
            print(f"wrote {count} procedures of version {version} to {args.file}")
            with_steps = sum(p.steps is not None for p in catalog.procedures.values())
            if with_steps and args.file.suffix.lower() != ".xlsx":
                print(f"wrote the steps of {with_steps} procedures to "
                      f"{args.steps or steps_path_for(args.file)}")
        else:  # versions
            for v in await catalog_store.versions(conn):
                mark = "*" if v["active"] else " "
                when = f"{v['imported_at']:%Y-%m-%d %H:%M}"
                print(f"{mark} {v['version']}  {v['n']:>4} procedures  {when}  "
                      f"{v['imported_by']}  {v['origin']}")
        return 0
    finally:
        await conn.close()


def main(argv: list[str]) -> int:
    """Run `motcua catalog` with `argv`; return the exit status."""
    try:
        args = _parser().parse_args(argv)
        return asyncio.run(_run(args, Settings()))
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except CatalogFileError as exc:
        for error in exc.errors:
            print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except (UsageError, LookupError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"{PROG}: error: database: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
