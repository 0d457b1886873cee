"""`motcua portal`: the national portal's synchronisation from the command line.

    motcua portal reconcile --date 2026-12-07            # compare and queue the missing ones
    motcua portal reconcile --date 2026-12-07 --dry-run  # compare only
    motcua portal simulate --port 8099                   # a local portal (and SMS/Zalo) stand-in

`reconcile` prints JSON (the day, how many dossiers were received, how many the portal
acknowledged, the pending, missing and queued codes) and exits 0, or 3 when some were missing
(so a cron job can alert). The running dispatcher delivers what it queues. `simulate` serves
`motcua.notify.simulators` until Ctrl-C (docs/portal-and-notices.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date

import asyncpg

from motcua.cli import db
from motcua.cli.args import Parser, UsageError
from motcua.config import Settings

PROG = "motcua portal"
MISSING_STATUS = 3


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _parser() -> Parser:
    parser = Parser(prog=PROG, description="Synchronisation with the national portal.")
    sub = parser.add_subparsers(dest="action", required=True, parser_class=Parser)
    rec = sub.add_parser("reconcile", help="compare a day's dossiers with the portal's "
                         "acknowledgements and queue the missing ones again")
    rec.add_argument("--date", required=True, type=_day, metavar="YYYY-MM-DD",
                     help="the day of receipt (Asia/Ho_Chi_Minh)")
    rec.add_argument("--dry-run", action="store_true", help="compare only, queue nothing")
    sim = sub.add_parser("simulate", help="serve a local portal, SMS gateway and Zalo ZNS")
    sim.add_argument("--port", type=int, default=8099)
    sim.add_argument("--token", default="portal-token", help="the bearer token it accepts")
    return parser


async def _reconcile(settings: Settings, day: date, resend: bool) -> dict[str, object]:
    from motcua.notify import reconcile
    from motcua.runtime import catalog_for

    fields = {code: p.field for code, p in catalog_for(settings).procedures.items()}
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    try:
        return (await reconcile.reconcile(pool, day, resend=resend, fields=fields)).as_dict()
    finally:
        await pool.close()


async def _simulate(port: int, token: str) -> None:
    from motcua.notify.simulators import Served, Simulator

    served = Served(Simulator(token=token), port)
    await served.start()
    print(f"portal simulator on {served.url} (token {token!r}); Ctrl-C to stop", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await served.stop()


def main(argv: list[str]) -> int:
    """Run `motcua portal` with `argv` (without the program name); return the exit status."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    if args.action == "simulate":
        try:
            asyncio.run(_simulate(args.port, args.token))
        except KeyboardInterrupt:
            return 0
        return 0
    try:
        result = asyncio.run(_reconcile(Settings(), args.date, not args.dry_run))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"{PROG}: error: {db.database_problem(exc)}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return MISSING_STATUS if result["missing"] else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
