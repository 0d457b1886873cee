"""`DeadlineTerms`: a due time and what it was worked out with, the fields shared by the
deadline activity's result (`contracts.DeadlineResult`), the workflow's internal command
(`commands.SetDeadline`) and the stored event (`events.DeadlineSet`).

The three inherit these fields rather than embed them: Temporal's converter and
`domain.codec` turn a dataclass into a flat JSON object of its fields, and a field holding a
nested `DeadlineTerms` would change the shape of the events stored in PostgreSQL and of the
results recorded in workflow histories. Inherited, the JSON keys are what they always were.
"""

# No `from __future__ import annotations`: Temporal's converter resolves these dataclasses'
# type hints inside the workflow sandbox, where string annotations cannot be evaluated.
import dataclasses
from datetime import datetime
from typing import Any


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeadlineTerms:
    due_at: datetime
    due_soon_at: datetime
    rule: str
    amount: int
    unit: str
    calendar_version: str
    catalog_version: str
    # The counting rule's version and the texts it follows (domain.clock.RULE_SOURCES).
    # Results and events from before the Nov 2026 correction carry neither: they were rule v1.
    rule_version: int = 1
    rule_source: str = ""
    # The due time without an apology's extension (issue 11 point 5); None in results and
    # events from before issue 11.
    legal_due_at: datetime | None = None

    def terms(self) -> dict[str, Any]:
        """Just the terms, as keyword arguments for another `DeadlineTerms` subclass (the
        result becomes the command, the command the event) without naming them one by one."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(DeadlineTerms)}
