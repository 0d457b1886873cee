"""What may still be recorded on a dossier whose workflow has ended (issue 23 item 1): a
complaint or recommendation (phản ánh, kiến nghị). Decision 766 item 5.4 counts dossiers with
a complaint, and complaints come mostly from dossiers that ended badly (refused, withdrawn,
stopped, rated "not satisfied"), after their workflow has finished.

While the workflow runs, the complaint is its update like any command (the workflow chooses
every position of its stream; an append from here would take its next position and its next
command would fail with `StreamConflict`). Once Temporal knows no running workflow for the
dossier, nobody else writes to the stream but this module, so the event is decided here by the
same `domain.decide` and appended at the next position with the store's optimistic
concurrency: `UNIQUE (stream, position)` refuses a position another writer took, and the
decision is taken again on the stream as it now is (docs/decisions.md, "Complaints after the
end").
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from domain import commands as cmd
from domain import permits
from domain.decide import decide, no_more_commands
from domain.dossier import fold, folded
from domain.envelope import EventEnvelope
from domain.errors import DomainError
from motcua.dossiers import CommandRejected
from motcua.eventstore import store
from motcua.problems import INVALID_TRANSITION, Problem, unavailable
from motcua.services import engine
from workflows import Acted

AFTER_END = permits.AFTER_END  # the commands accepted once the dossier's life has ended
# Recorded by the system after the end, never offered to a person: a citizen's notice
# delivered after the workflow finished (issue 25; motcua/notify/recorder.py).
SYSTEM_AFTER_END: frozenset[type[cmd.Command]] = frozenset({cmd.RecordNoticeDelivery})
CAUSATION = "after-end"
_ATTEMPTS = 5


async def record(pool: asyncpg.Pool, code: str, command: cmd.Command) -> Acted:
    """Decide `command` on the ended dossier `code` and append its events after the last
    stored one; the dossier after it and the events stored. Refused (409) when the dossier's
    life has not ended (its workflow was stopped by other means: nothing may write beside
    it) or the command is not one of `AFTER_END` (or `SYSTEM_AFTER_END`)."""
    for _ in range(_ATTEMPTS):
        events = await store.read_stream(pool, code)
        if not events:
            raise engine.not_found()
        before = folded(events)
        now = datetime.now(UTC)
        if type(command) not in AFTER_END | SYSTEM_AFTER_END or not before.ended(now):
            refusal = no_more_commands(before)
            raise Problem(INVALID_TRANSITION, refusal.message, state=before.state_name)
        try:
            decided = decide(before, command, now)
        except DomainError as err:
            raise engine.rejection(CommandRejected(
                err.type, err.message, {"state": before.state_name, **err.details})) from err
        if not decided:  # already recorded (a delivery reported again): nothing to append
            return Acted(state=before, appended=[])
        metadata = {"actor": command.actor, "causation": CAUSATION,
                    "command": type(command).__name__}
        if command.correlation_id:
            metadata["correlation_id"] = command.correlation_id
        envelopes = [EventEnvelope.wrap(e, event_id=str(uuid.uuid4()), stream=code,
                                        position=before.version + i, metadata=metadata)
                     for i, e in enumerate(decided, start=1)]
        try:
            async with pool.acquire() as conn:
                await store.append(conn, code, envelopes)
        except store.StreamConflict:
            continue  # another writer took the position: decide again on the new stream
        return Acted(state=fold(decided, before), appended=envelopes)
    raise unavailable("postgresql", "the dossier's stream kept changing; retry")
