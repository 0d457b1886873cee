"""Who signs: the people named on papers and screens, by full name, never by login (issue 23
item 6).

Events record the login of whoever acted (`metadata.actor`) and, for an assignment, the
officer's login. Papers are printed later, so the login is resolved to the person's full name
and roles at render time (`people_of`), disabled users included: a paper reprinted after
someone left still names who signed it then. A login no user has (a service token, e.g. the
national portal's integration) stays as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import asyncpg

from domain import events as ev
from domain.envelope import EventEnvelope
from motcua.eventstore.store import Conn

# What a role signs as, when a paper names a person by capacity (e.g. "Người lập").
ROLE_TITLES = {"leader": "Lãnh đạo đơn vị", "officer": "Công chức giải quyết hồ sơ",
               "clerk": "Công chức tiếp nhận và trả kết quả"}


@dataclass(frozen=True)
class Person:
    """A user as papers name them."""

    full_name: str
    roles: frozenset[str] = frozenset()

    @property
    def is_leader(self) -> bool:
        """May sign as head of the unit ("Thủ trưởng cơ quan")."""
        return "leader" in self.roles

    @property
    def title(self) -> str:
        """The capacity the person's roles give, leader first."""
        return next((ROLE_TITLES[r] for r in ROLE_TITLES if r in self.roles), "")


People = Mapping[str, Person]


def logins(events: Iterable[EventEnvelope]) -> set[str]:
    """Every login the events name: who acted, and the officers assigned or starting."""
    found: set[str] = set()
    for e in events:
        actor = e.metadata.get("actor")
        if isinstance(actor, str) and actor:
            found.add(actor)
        officer = e.payload.get("officer") if e.event_type in (
            ev.OfficerAssigned.event_type, ev.ProcessingStarted.event_type) else None
        if isinstance(officer, str) and officer:
            found.add(officer)
    return found


async def people_of(conn: asyncpg.Pool | Conn,
                    events: Iterable[EventEnvelope]) -> dict[str, Person]:
    """The people the events name, by login, from the console's users (disabled ones too)."""
    names = sorted(logins(events))
    if not names:
        return {}
    rows = await conn.fetch("SELECT username, full_name, roles FROM console_users "
                            "WHERE username = ANY($1::text[])", names)
    return {r["username"]: Person(full_name=r["full_name"] or r["username"],
                                  roles=frozenset(r["roles"])) for r in rows}


def name_of(people: People, login: str) -> str:
    """The full name for `login`, or the login itself when no user has it."""
    person = people.get(login)
    return person.full_name if person else login
