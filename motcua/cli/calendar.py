"""`motcua calendar correct`: after the holiday table or the overrides file changed (and the
workers were restarted with it), recompute the due time of every open dossier.

Each dossier gets a `correct_calendar` update whose id names the calendar version, so running
the command twice, or after a crash halfway, corrects nothing twice. Dossiers whose due time
does not change record nothing; the others record a new deadline version (reason
`calendar_correction`) and their timers re-arm.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from datetime import timedelta

from temporalio.service import RPCError

from domain import commands as cmd
from motcua import dossiers
from motcua.config import Settings
from motcua.runtime import calendar_for
from motcua.temporal import connect

QUERY = "WorkflowType = 'DossierWorkflow' AND ExecutionStatus = 'Running'"


async def correct(settings: Settings, reason: str, actor: str,
                  concurrency: int = 20) -> Counter[str]:
    """Send the correction to every running dossier on this deployment's task queue;
    returns counts by outcome."""
    version = calendar_for(settings).version
    client = await connect(settings)
    outcomes: Counter[str] = Counter()
    gate = asyncio.Semaphore(concurrency)

    async def one(code: str) -> None:
        async with gate:
            try:
                before = await dossiers.current(client, code)
                after = await dossiers.act(
                    client, code, "correct-calendar",
                    cmd.CorrectCalendar(reason=reason, actor=actor),
                    update_id=f"calendar-correction:{version}:{code}",
                    rpc_timeout=timedelta(seconds=30))
                outcomes["moved" if after.due_at != before.due_at else "unchanged"] += 1
            except dossiers.CommandRejected as err:
                outcomes[f"skipped ({err.type})"] += 1
            except RPCError as err:
                outcomes[f"failed ({err.status.name})"] += 1

    query = f"{QUERY} AND TaskQueue = '{settings.task_queue}'"
    codes = [wf.id async for wf in client.list_workflows(query)]
    await asyncio.gather(*(one(code) for code in codes))
    return outcomes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="motcua calendar", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    fix = sub.add_parser("correct", help="recompute open dossiers' due times")
    fix.add_argument("--reason", required=True, help="the announcement behind the change")
    fix.add_argument("--actor", default="operator", help="recorded in each event (operator)")
    args = parser.parse_args(argv)
    outcomes = asyncio.run(correct(Settings(), args.reason, args.actor))
    total = sum(outcomes.values())
    print(f"{total} open dossiers: " + ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items()))
          if total else "no open dossiers")
    return 0
