"""The `motcua` command line."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg

from motcua import logs
from motcua.cli import db
from motcua.config import Settings
from motcua.health import PortTaken

Handler = Callable[[argparse.Namespace, Settings], int]


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.eventstore.migrate import migrate

    applied = asyncio.run(db.connected(settings, migrate))
    print(f"applied migrations: {applied}" if applied else "database is up to date")
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    import worker

    asyncio.run(worker.run(settings))
    return 0


def _projector(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.eventstore.process import run

    asyncio.run(run(settings))
    return 0


def _dispatcher(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.notify.process import run

    asyncio.run(run(settings))
    return 0


def _projections(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.eventstore import projector
    from motcua.runtime import calendar_for

    tz = calendar_for(settings).tz

    async def work(conn: asyncpg.Connection) -> int:
        return await (projector.rebuild(conn, tz=tz) if args.action == "rebuild"
                      else projector.catch_up(conn, tz=tz))

    print(f"projected {asyncio.run(db.connected(settings, work))} events")
    return 0


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy settings from ours, always explicit: uvicorn alone would believe
    X-Forwarded-For from 127.0.0.1 and ::1 (or from its own FORWARDED_ALLOW_IPS), so on the
    dev stack, or behind a sidecar, anyone could choose the address the lookup rate limit and
    the login audit see. We believe it only from MOTCUA_FORWARDED_ALLOW_IPS (default: no one)."""
    trusted = [h.strip() for h in settings.forwarded_allow_ips.split(",") if h.strip()]
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


def _api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    uvicorn.run("motcua.app:create_app", factory=True, host=args.host, port=args.port,
                log_config=None, access_log=False, **proxy_options(settings))
    return 0


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    from motcua.devstack.supervisor import run_dev

    return run_dev(args)


# Each subcommand's module is imported when it runs, not before: `motcua catalog import` must
# not pay for pyHanko, boto3 or the simulators (tests/test_catalog_import_bounds.py measures
# its memory), and `motcua deadline` answers fast.
def _backup_main_backup(argv: list[str]) -> int:
    from motcua.cli import backup
    return backup.main_backup(argv)


def _backup_main_restore(argv: list[str]) -> int:
    from motcua.cli import backup
    return backup.main_restore(argv)


def _calendar(argv: list[str]) -> int:
    from motcua.cli import calendar
    return calendar.main(argv)


def _catalog(argv: list[str]) -> int:
    from motcua.cli import catalog
    return catalog.main(argv)


def _deadline(argv: list[str]) -> int:
    from motcua.cli import deadline
    return deadline.main(argv)


def _dossier(argv: list[str]) -> int:
    from motcua.cli import dossier
    return dossier.main(argv)


def _portal(argv: list[str]) -> int:
    from motcua.cli import portal
    return portal.main(argv)


def _psql(argv: list[str]) -> int:
    from motcua.cli import psql
    return psql.main(argv)


def _report(argv: list[str]) -> int:
    from motcua.cli import report
    return report.main(argv)


def _token(argv: list[str]) -> int:
    from motcua.cli import token
    return token.main(argv)


def _user(argv: list[str]) -> int:
    from motcua.cli import user
    return user.main(argv)


def _whatif(argv: list[str]) -> int:
    from motcua.cli import whatif
    return whatif.main(argv)


# Subcommands that parse their own arguments: name -> (help line, the module's `main`). They run
# before logging is configured: `motcua deadline` prints exactly one line.
OWN_PARSERS: dict[str, tuple[str, Callable[[list[str]], int]]] = {
    "deadline": ("compute a due time (see `motcua deadline --help`)", _deadline),
    "token": ("create or revoke API tokens (see `motcua token --help`)", _token),
    "calendar": ("correct open dossiers after a calendar change", _calendar),
    "user": ("console users: create, disable, reset-password (`motcua user --help`)", _user),
    "report": ("SLA report: Biểu 06, Decision 766 (`motcua report --help`)", _report),
    "psql": ("the embedded psql on DATABASE_URL (default: the dev database)", _psql),
    "portal": ("national portal: reconcile a day, or simulate one (`motcua portal --help`)",
               _portal),
    "catalog": ("import / activate / export the procedure catalog (`motcua catalog --help`)",
                _catalog),
    "dossier": ("operator commands on one dossier: erase its files (`motcua dossier --help`)",
                _dossier),
    "whatif": ("replay a period under a proposed catalog; `whatif recommend` "
               "(`motcua whatif --help`)", _whatif),
    "backup": ("dump the whole database, keys apart (`motcua backup --help`)", _backup_main_backup),
    "restore": ("restore a backup into an empty database (`motcua restore --help`)",
                _backup_main_restore),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="motcua", description="Dossier workflows and their legal deadlines.")
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the whole stack on embedded defaults")
    dev.add_argument("--data-dir", default=".motcua", help="all data lives here (.motcua)")
    dev.add_argument("--port", type=int, default=8080, help="HTTP API port (8080)")
    dev.add_argument("--temporal-port", type=int, default=7233, help="Temporal port (7233)")
    dev.add_argument("--temporal-ui-port", type=int, default=8233, help="Temporal UI (8233)")
    dev.add_argument("--pg-port", type=int, default=55432, help="PostgreSQL port (55432)")
    dev.add_argument("--metrics-port", type=int, default=0,
                     help="first of four ports for the worker, Temporal SDK, projector and "
                     "dispatcher metrics, on 127.0.0.1 (default: four free ones)")
    dev.add_argument("--portal-simulator", action="store_true",
                     help="run a local national-portal and SMS simulator and synchronise with "
                     "it (docs/portal-and-notices.md)")
    dev.add_argument("--simulator-port", type=int, default=8099,
                     help="the simulator's port (8099)")
    dev.set_defaults(handler=_dev)
    sub.add_parser("worker", help="run the Temporal worker").set_defaults(handler=_worker)
    api = sub.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default="0.0.0.0")
    api.add_argument("--port", type=int, default=8080)
    api.set_defaults(handler=_api)
    sub.add_parser("projector", help="keep the read models up to date").set_defaults(
        handler=_projector)
    sub.add_parser("dispatcher", help="deliver alerts, portal changes and notices (outbox)"
                   ).set_defaults(handler=_dispatcher)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(handler=_migrate)
    proj = sub.add_parser("projections", help="rebuild or catch up the read models")
    proj.add_argument("action", choices=["rebuild", "catch-up"])
    proj.set_defaults(handler=_projections)
    for name, (text, _entry) in OWN_PARSERS.items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] and args_list[0] in OWN_PARSERS:
        return OWN_PARSERS[args_list[0]][1](args_list[1:])
    args = build_parser().parse_args(args_list)
    settings = Settings()
    # `motcua dev` talks to a person: readable lines unless JSON was asked for explicitly.
    fmt = "console" if args.command == "dev" and "MOTCUA_LOG_FORMAT" not in os.environ \
        else settings.log_format
    logs.configure(settings.log_level, fmt)
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130
    except PortTaken as err:  # one line, not a traceback (`motcua dev` checks ports first)
        print(f"motcua {args.command}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
