"""Digitisation before assignment (issue 26): a procedure whose catalog entry sets
`digitise_before_assign` may not be assigned while a paper listed on the dossier has no scanned
file.

The law: papers received at the counter are scanned (Decree 118/2025/NĐ-CP art. 17(1)(c)),
every page, in order, the page counts matching (Circular 01/2023/TT-VPCP art. 8; the counts are
checked on upload, `motcua.files.content`). Making the assignment wait for the scans is the
province's choice per procedure (our reading: no text ties the two), hence a catalog flag.

Our readings of "every component": the papers listed on the dossier (the receipt's or the
online submission's paper list, and those brought with a supplement before or at intake), each
matched by name, case and spacing aside, with a file of purpose "component" (scanned, reused or
taken from the national data store: each is a digitised copy on file). A dossier listing no
papers has nothing to scan. Circular 03/2025/TT-VPCP art. 5(2) exempts papers only shown and a
few others from scanning; a clerk leaves such papers off the list (the catalog has no per-paper
exemption yet).

One place: `services.dossiers.act` calls `check_assign` before the engine for the action that
hands the dossier from the counter to its processors (`gated`): `assign`, or for a procedure with
an internal procedure the hand-over out of its first step (the counter's "receive and digitise"
step in every published list, docs/legal-rules.md), so the API and the console refuse alike;
the console's dossier page calls `missing` to say why that action is not offered.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from domain import commands as cmd
from domain import events as ev
from domain.catalog import Catalog
from domain.dossier import Dossier
from domain.envelope import EventEnvelope
from motcua.problems import DIGITISATION_REQUIRED, Problem
from motcua.services import holders

SOURCE = "Decree 118/2025/NĐ-CP art. 17(1)(c); Circular 01/2023/TT-VPCP art. 8"
SOURCE_VI = "Nghị định 118/2025/NĐ-CP điều 17 khoản 1 điểm c; Thông tư 01/2023/TT-VPCP điều 8"


def _key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def papers(events: Sequence[EventEnvelope]) -> list[str]:
    """The papers listed on the dossier, in order, each once."""
    listed: list[str] = []
    for e in events:
        if isinstance(e.event, ev.DossierReceived | ev.DossierSubmitted
                      | ev.IntakeSupplementReceived | ev.SupplementReceived):
            listed += [p for p in e.event.documents
                       if _key(p) not in {_key(x) for x in listed}]
    return listed


def missing(events: Sequence[EventEnvelope]) -> list[str]:
    """The papers listed on the dossier that have no component file yet."""
    scanned = {_key(e.event.name) for e in events
               if isinstance(e.event, ev.FileAttached) and e.event.purpose == "component"}
    return [p for p in papers(events) if _key(p) not in scanned]


def gated(action: str, dossier: Dossier) -> bool:
    """Whether `action` is the one that waits for the scans on `dossier` now: `assign`, or the
    hand-over out of the first step of an internal procedure, when the state accepts it (the
    state's own refusal comes first)."""
    if action == "assign":
        command: type[cmd.Command] = cmd.AssignOfficer
    elif action == "hand-over" and dossier.step_plan is not None and dossier.current_step == 0:
        command = cmd.HandOverStep
    else:
        return False
    return holders.accepts(dossier, command)


def required(catalog: Catalog, procedure_code: str) -> bool:
    """Whether the procedure requires digitisation before assignment."""
    procedure = catalog.procedures.get(procedure_code)
    return procedure is not None and procedure.digitise_before_assign


def check_assign(catalog: Catalog, procedure_code: str,
                 events: Sequence[EventEnvelope]) -> None:
    """409 `digitisation-required`, naming the papers not yet scanned, when the procedure
    requires digitisation before assignment and some are missing."""
    if not required(catalog, procedure_code):
        return
    absent = missing(events)
    if absent:
        raise Problem(DIGITISATION_REQUIRED, "procedure " + procedure_code + " requires every "
                      f"component scanned before assignment ({SOURCE}); not yet scanned: "
                      + "; ".join(absent), missing=absent)
