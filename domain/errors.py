"""Domain errors. Each carries a stable `type` that callers branch on (never the message)."""

from __future__ import annotations


class DomainError(Exception):
    """A command the domain refuses. `type` is stable API; `message` is for people."""

    type: str = "DomainError"

    def __init__(self, message: str, **details: str) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidTransition(DomainError):
    """The dossier's current state forbids the command (HTTP 409)."""

    type = "InvalidTransition"


class InvalidCommand(DomainError):
    """The command itself is malformed or breaks a rule regardless of state (HTTP 422)."""

    type = "InvalidCommand"


class AlreadyExtended(DomainError):
    """The appointment was already moved once; the law allows a single extension (HTTP 409)."""

    type = "AlreadyExtended"


class AlreadyRated(DomainError):
    """The citizen already rated this dossier (HTTP 409)."""

    type = "AlreadyRated"



class NotPermitted(DomainError):
    """The actor's roles, or the dossier's assignment to someone else, forbid the command
    (HTTP 403)."""

    type = "NotPermitted"


class NotVisible(DomainError):
    """The dossier belongs to a unit outside the actor's scope: answered as if it did not
    exist (HTTP 404), so its existence is not revealed."""

    type = "NotVisible"
