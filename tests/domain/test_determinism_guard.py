"""A static check of the workflow code and the domain it runs: only deterministic imports and
no call of the clock, randomness, the environment or I/O (non-negotiable 5).

The worker runs without the SDK's sandbox by default (`MOTCUA_WORKFLOW_SANDBOX=off`, issue 13):
with `domain` and `workflows` passed through, the shared sandbox no longer intercepted their
calls anyway. This check covers every line of both packages, including paths no recorded
history takes; the replay tests still run the strict sandbox over the recorded ones."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "workflows")

# Modules the workflow code may import: pure standard-library helpers, its own packages and
# the deterministic parts of the SDK. `datetime` is for types and arithmetic only (the calls
# below are refused); `asyncio` for the workflow's lock and tasks, which the SDK's event loop
# runs deterministically.
ALLOWED_MODULES = {
    "__future__", "asyncio", "collections.abc", "contextlib", "dataclasses", "datetime",
    "enum", "functools", "re", "types", "typing",
    "domain", "workflows",
    "temporalio", "temporalio.workflow", "temporalio.common", "temporalio.exceptions",
}
ALLOWED_FROM_TEMPORALIO = {"workflow"}

# Calls that read the clock, draw randomness or touch the outside world, by the dotted name
# they are written with.
FORBIDDEN_CALLS = {
    "datetime.now", "datetime.utcnow", "datetime.today", "date.today",
    "time.time", "time.monotonic", "time.sleep", "time.perf_counter",
    "uuid.uuid1", "uuid.uuid4", "random.random", "os.getenv", "os.urandom",
    "open", "print", "input", "asyncio.sleep", "asyncio.get_event_loop",
}


def _sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def violations(source: str) -> list[str]:
    """What in `source` breaks the rules above, one line each."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names
                      if a.name not in ALLOWED_MODULES
                      and a.name.split(".")[0] not in {"domain", "workflows"}]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            top = module.split(".")[0]
            if module == "temporalio":
                found += [f"{node.lineno}: from temporalio import {a.name}" for a in node.names
                          if a.name not in ALLOWED_FROM_TEMPORALIO]
            elif module not in ALLOWED_MODULES and top not in {"domain", "workflows"}:
                found.append(f"{node.lineno}: from {module} import ...")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in FORBIDDEN_CALLS:
                found.append(f"{node.lineno}: {name}()")
    return found


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_workflow_code_is_deterministic_by_construction(path: Path) -> None:
    assert violations(path.read_text(encoding="utf-8")) == []


def test_the_guard_catches_what_it_should() -> None:
    """The check itself can fail: each kind of breach in a sample is reported."""
    sample = "\n".join([
        "import os",
        "from random import choice",
        "from temporalio import client",
        "from datetime import datetime",
        "x = datetime.now()",
        "y = time.time()",
        "open('f')",
        "from domain.dossier import Dossier",
    ])
    assert violations(sample) == [
        "1: import os", "2: from random import ...", "3: from temporalio import client",
        "5: datetime.now()", "6: time.time()", "7: open()",
    ]
