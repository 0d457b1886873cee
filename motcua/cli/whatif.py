"""`motcua whatif`: replay a period's dossiers under a proposed catalog or calendar, and
`motcua whatif recommend`: the deepest cut each procedure could have borne.

    motcua whatif --from 2025-01-01 --to 2025-06-30 --cut 30
    motcua whatif --from 2025-01-01 --to 2025-06-30 --cut 30 --procedure 1.004222 --format json
    motcua whatif --from 2025-01-01 --to 2025-06-30 --catalog proposed.csv --unit 000.21.39.H39
    motcua whatif recommend --from 2025-01-01 --to 2025-12-31 --target 0.99 --output draft.csv

Reads the read model in the database named by DATABASE_URL, in one read-only transaction:
nothing is written there. The result goes to stdout (the recommended catalog to `--output`);
bad arguments give one line on stderr and exit status 2, an unreachable database status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

import asyncpg

from domain.calendar import Calendar
from domain.catalog import Catalog
from motcua.catalog.calendar import load_calendar
from motcua.cli import db
from motcua.config import Settings
from motcua.runtime import calendar_for, catalog_for, office_hours
from motcua.whatif import simulate as whatif
from motcua.whatif.catalogs import in_force, read_policy, write_catalog
from motcua.whatif.recommend import recommend
from motcua.whatif.render import render_csv, render_recommend, render_table

PROG = "motcua whatif"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage block and exits; we want one line and our own exit path.
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _common(parser: _Parser) -> None:
    parser.add_argument("--from", dest="start", required=True, type=_day, metavar="YYYY-MM-DD",
                        help="first day of receipt (office date, inclusive)")
    parser.add_argument("--to", dest="end", required=True, type=_day, metavar="YYYY-MM-DD",
                        help="last day of receipt (inclusive)")
    parser.add_argument("--unit", help="only the dossiers of this unit (its code)")
    parser.add_argument("--as-of", type=_day, metavar="YYYY-MM-DD",
                        help="report date judging dossiers still in progress (default: today)")


def _parser() -> _Parser:
    parser = _Parser(prog=PROG, description="Replay the dossiers received in a period under "
                     "a proposed catalog or calendar (read-only). `motcua whatif recommend "
                     "--help`: the deepest cut each procedure could bear.")
    _common(parser)
    policy = parser.add_mutually_exclusive_group(required=True)
    policy.add_argument("--catalog", type=Path, metavar="FILE",
                        help="proposed catalog, as `motcua catalog import` takes (CSV/XLSX)")
    policy.add_argument("--cut", type=_number, metavar="PERCENT",
                        help="cut every reduced time (or those of --procedure) by PERCENT, "
                        "rounded down to whole units")
    parser.add_argument("--procedure", nargs="+", default=[], metavar="CODE",
                        help="only these procedures (cut and report)")
    parser.add_argument("--overrides", type=Path, metavar="FILE",
                        help="proposed calendar overrides YAML (as `motcua deadline` takes)")
    parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
    return parser


def _recommend_parser() -> _Parser:
    parser = _Parser(prog=f"{PROG} recommend", description="Per procedure, the deepest cut in "
                     "whole units keeping the on-time rate at or above a target (read-only).")
    _common(parser)
    parser.add_argument("--target", type=_number, default=0.99, metavar="RATE",
                        help="on-time rate to keep, a fraction (default 0.99)")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="write the recommended times as a catalog import file (CSV)")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    return parser


def _json(doc: Any) -> str:
    def default(value: object) -> str:
        if isinstance(value, datetime | date):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    return json.dumps(doc, ensure_ascii=False, indent=2, default=default) + "\n"


# -- running ---------------------------------------------------------------------------------

def _today(cal: Calendar) -> date:
    return datetime.now(cal.tz).date()


async def _whatif(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    cal = calendar_for(settings)
    proposed_cal = None
    if args.overrides is not None:
        proposed_cal = load_calendar(overrides_path=args.overrides, hours=office_hours(settings))

    async def work(conn: asyncpg.Connection) -> whatif.Result:
        catalog = await in_force(conn, settings, catalog_for(settings))
        baseline = whatif.in_force(catalog)
        if args.catalog is not None:
            proposed = read_policy(args.catalog, baseline)
        else:
            proposed = whatif.cut_policy(baseline, args.cut, args.procedure)
        result = await whatif.run(
            conn, start=args.start, end=args.end, calendar=cal, baseline=baseline,
            proposed=proposed, proposed_calendar=proposed_cal,
            as_of=args.as_of or _today(cal), unit=args.unit, procedures=args.procedure,
            verification=whatif.verification_maxima(catalog), catalog=catalog)
        return result

    result = await db.connected(settings, work)
    return result.as_dict()


async def _recommend(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    cal = calendar_for(settings)
    whatif.period_bounds(args.start, args.end, cal)

    async def work(conn: asyncpg.Connection
                   ) -> tuple[Catalog, tuple[list[dict[str, Any]], int]]:
        catalog = await in_force(conn, settings, catalog_for(settings))
        advice, skipped = await recommend(
            conn, start=args.start, end=args.end, calendar=cal,
            baseline=whatif.in_force(catalog), target=args.target,
            as_of=args.as_of or _today(cal), unit=args.unit,
            verification=whatif.verification_maxima(catalog))
        return catalog, (advice, skipped)

    catalog, (advice, skipped) = await db.connected(settings, work)
    doc = {"report": "whatif-recommend", "period": {"from": args.start.isoformat(),
                                                   "to": args.end.isoformat()},
           "target": args.target, "unit": args.unit, "skipped": skipped, "procedures": advice}
    if args.output is not None:
        source = (f"DRAFT, not a published decision: motcua whatif recommend "
                  f"{args.start}..{args.end}, target on-time rate {args.target}")
        write_catalog(args.output, catalog,
                      {a["procedure_code"]: a["recommended"] for a in advice}, source)
        doc["written"] = str(args.output)
    return doc


def main(argv: list[str]) -> int:
    """Run `motcua whatif` with `argv` (without the program name); return the exit status."""
    is_recommend = argv[:1] == ["recommend"]
    try:
        args = (_recommend_parser() if is_recommend else _parser()).parse_args(
            argv[1:] if is_recommend else argv)
        if args.end < args.start:
            raise _UsageError("--to is before --from")
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except _UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    settings = Settings()
    try:
        if is_recommend:
            doc = asyncio.run(_recommend(settings, args))
            text = _json(doc) if args.format == "json" else render_recommend(doc)
        else:
            doc = asyncio.run(_whatif(settings, args))
            text = {"json": _json, "csv": render_csv, "table": render_table}[args.format](doc)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        print(f"{PROG}: error: the database is unreachable or not migrated: {exc}",
              file=sys.stderr)
        return 1
    except ValueError as exc:  # WhatIfError, CalendarOverridesError, DateOutsideCalendar
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
