"""`motcua deadline`: print the due instant of a dossier received at a given time.

    motcua deadline --received 2025-01-24T10:00+07:00 --days 3
    2025-02-05T17:00:00+07:00

Only the due instant goes to stdout (ISO 8601 with offset, one line), so scripts can use it.
A receipt time without an offset is read as office local time (the calendar's zone,
`MOTCUA_OFFICE_TZ`): that is what a clerk means by "10:00". The calendar is the deployment's
(`MOTCUA_CALENDAR_OVERRIDES`, `MOTCUA_OFFICE_HOURS`), or `--overrides` when given. Bad input
gives one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from domain.catalog import CountingRule, TimeUnit
from domain.clock import due_at, rule_name, rule_source
from motcua.cli.args import Parser, UsageError
from motcua.config import Settings
from motcua.runtime import calendar_for

PROG = "motcua deadline"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"N must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"N must be >= 1, got {value}")
    return value


def _parser() -> Parser:
    parser = Parser(prog=PROG, description="Print the legal due instant of a dossier.")
    parser.add_argument("--received", required=True, metavar="ISO8601",
                        help="receipt time, e.g. 2025-01-24T10:00+07:00 (no offset: office time)")
    parser.add_argument("--days", required=True, type=_positive_int, metavar="N",
                        help="processing time in UNITs (1 for same_day)")
    parser.add_argument("--unit", default=TimeUnit.WORKING_DAYS.value,
                        choices=[u.value for u in TimeUnit], help="default: working_days")
    parser.add_argument("--rule", default=CountingRule.CIVIL_CODE.value,
                        choices=[r.value for r in CountingRule], help="default: civil_code")
    parser.add_argument("--overrides", type=Path, metavar="PATH",
                        help="calendar overrides YAML (default: MOTCUA_CALENDAR_OVERRIDES, "
                        "else the shipped file)")
    parser.add_argument("--explain", action="store_true",
                        help="also print the counting rule's name and legal source (2nd line)")
    return parser


def main(argv: list[str]) -> int:
    """Run `motcua deadline` with `argv` (without the program name); return the exit status."""
    try:
        args = _parser().parse_args(argv)
        try:
            received = datetime.fromisoformat(args.received)
        except ValueError:
            raise UsageError(f"--received: not an ISO 8601 date-time: {args.received!r}") from None
        settings = Settings()
        if args.overrides is not None:
            settings = settings.model_copy(update={"calendar_overrides": args.overrides})
        calendar = calendar_for(settings)
        if received.tzinfo is None:
            received = received.replace(tzinfo=calendar.tz)
        due = due_at(calendar, received, args.days, TimeUnit(args.unit), CountingRule(args.rule))
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except (UsageError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    print(due.isoformat())
    if args.explain:
        print(f"{rule_name(args.rule, args.unit)}: {rule_source(args.rule, args.unit)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
