"""Report pre-aggregation kept by the projector, in the same transaction as the read models.

(Placeholder: the SLA-report aggregates are added by the reports work; until then the
projector calls these and nothing is kept.)
"""

from __future__ import annotations

from typing import NamedTuple

from domain import events as ev
from domain.dossier import Dossier
from motcua.eventstore.store import Conn


class Applied(NamedTuple):
    """One projected event with the dossier's state before and after it."""

    event: ev.Event
    before: Dossier
    after: Dossier


async def apply(conn: Conn, applied: list[Applied]) -> None:
    """Update the report aggregates for a batch of projected events."""


async def reset(conn: Conn) -> None:
    """Empty the report aggregates (rebuild from zero)."""
