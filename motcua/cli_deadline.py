"""`motcua deadline`: print the due instant of a dossier received at a given time.

    motcua deadline --received 2025-01-24T10:00+07:00 --days 3
    2025-02-05T17:00:00+07:00

Only the due instant goes to stdout (ISO 8601 with offset, one line), so scripts can use it.
A receipt time without an offset is read as office local time (Asia/Ho_Chi_Minh, or the
calendar's zone): that is what a clerk means by "10:00". Bad input gives one line on stderr and
exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from domain.catalog import CountingRule, TimeUnit
from domain.clock import due_at
from motcua.calendar_source import load_calendar

PROG = "motcua deadline"


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage block and exits; we want one line and our own exit path.
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"N must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"N must be >= 1, got {value}")
    return value


def _parser() -> _Parser:
    parser = _Parser(prog=PROG, description="Print the legal due instant of a dossier.")
    parser.add_argument("--received", required=True, metavar="ISO8601",
                        help="receipt time, e.g. 2025-01-24T10:00+07:00 (no offset: office time)")
    parser.add_argument("--days", required=True, type=_positive_int, metavar="N",
                        help="processing time in UNITs (1 for same_day)")
    parser.add_argument("--unit", default=TimeUnit.WORKING_DAYS.value,
                        choices=[u.value for u in TimeUnit], help="default: working_days")
    parser.add_argument("--rule", default=CountingRule.CIVIL_CODE.value,
                        choices=[r.value for r in CountingRule], help="default: civil_code")
    parser.add_argument("--overrides", type=Path, metavar="PATH",
                        help="calendar overrides YAML (default: the shipped file)")
    return parser


def main(argv: list[str]) -> int:
    """Run `motcua deadline` with `argv` (without the program name); return the exit status."""
    try:
        args = _parser().parse_args(argv)
        try:
            received = datetime.fromisoformat(args.received)
        except ValueError:
            raise _UsageError(f"--received: not an ISO 8601 date-time: {args.received!r}") from None
        calendar = load_calendar(overrides_path=args.overrides)
        if received.tzinfo is None:
            received = received.replace(tzinfo=calendar.tz)
        due = due_at(calendar, received, args.days, TimeUnit(args.unit), CountingRule(args.rule))
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except (_UsageError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    print(due.isoformat())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
