"""The application's problems: a stored problem document reads back as the same problem."""

from __future__ import annotations

from motcua.problems import INVALID_TRANSITION, Problem, invalid_input, problem_body


def test_a_stored_refusal_reads_back_as_the_same_problem() -> None:
    """`Problem.from_body(problem_body(p))` keeps the kind, the detail and the extensions (a
    replayed refusal is shown as the refusal it was)."""
    for problem in (Problem(INVALID_TRANSITION, "already received", state="received"),
                    invalid_input("unit_code", "unknown unit")):
        again = Problem.from_body(problem_body(problem))
        assert again.kind is problem.kind
        assert (again.detail, again.extensions) == (problem.detail, problem.extensions)


def test_an_unknown_type_keeps_its_status() -> None:
    """A document of a type this version does not know keeps its title and status."""
    again = Problem.from_body({"type": "https://example.org/other", "title": "Other",
                               "status": 418, "detail": "d"})
    assert (again.kind.status, again.kind.title, again.detail) == (418, "Other", "d")
