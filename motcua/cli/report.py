"""`motcua report`: the SLA report (Biểu 06, Decision 766) for a period, as JSON or CSV.

    motcua report --from 2025-01-01 --to 2025-03-31 --unit 000.21.39.H39 --by procedure
    motcua report --from 2025-01-01 --to 2025-12-31 --by unit --format csv > 2025.csv

Reads the projector's report tables in the database named by DATABASE_URL. The report goes to
stdout and nothing else does; bad arguments give one line on stderr and exit status 2, an
unreachable database exit status 1.
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
from motcua.reports.sla import GROUPS, Report, sla_report, to_csv
from motcua.runtime import calendar_for

PROG = "motcua report"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _groups(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"--by takes {' and/or '.join(GROUPS)}, comma-separated; got {', '.join(unknown)}")
    return names


def _parser() -> Parser:
    parser = Parser(prog=PROG, description="Print the SLA report (Biểu 06 columns, Decision "
                     "766 on-time and satisfaction rates) for a period.")
    parser.add_argument("--from", dest="start", required=True, type=_day, metavar="YYYY-MM-DD",
                        help="first day of the period (office date, MOTCUA_OFFICE_TZ)")
    parser.add_argument("--to", dest="end", required=True, type=_day, metavar="YYYY-MM-DD",
                        help="last day of the period (inclusive)")
    parser.add_argument("--unit", help="only this unit (its code)")
    parser.add_argument("--procedure", help="only this procedure (its code)")
    parser.add_argument("--by", type=_groups, default=(), metavar="unit,procedure",
                        help="one row per unit and/or procedure (default: totals only)")
    parser.add_argument("--format", choices=["json", "csv"], default="json")
    return parser


async def _run(settings: Settings, args: argparse.Namespace) -> Report:
    tz = calendar_for(settings).tz

    async def work(conn: asyncpg.Connection) -> Report:
        return await sla_report(conn, period_start=args.start, period_end=args.end,
                                unit=args.unit, procedure=args.procedure, group_by=args.by,
                                tz=tz)

    return await db.connected(settings, work)


def render(report: Report, fmt: str) -> str:
    """The report as printed: indented JSON, or CSV."""
    if fmt == "csv":
        return to_csv(report)
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> int:
    """Run `motcua report` with `argv` (without the program name); return the exit status."""
    try:
        args = _parser().parse_args(argv)
        if args.end < args.start:
            raise UsageError("--to is before --from")
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        report = asyncio.run(_run(Settings(), args))
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"{PROG}: error: {db.database_problem(exc)}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(report, args.format))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
