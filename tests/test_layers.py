"""A static check of the application's layers (issue 21): every interface is an adapter over
the shared services, and no adapter imports another.

- the console and the CLI import no module of `motcua.api`, and the API none of the console
  (they meet only in `motcua.app`, which composes the web app);
- nothing else in `motcua` (the services, access rules, domain adapters...) imports an
  interface;
- nothing in `motcua` imports `activities` (the worker's activities may import `motcua`);
- no module loads CLI modules by name (`importlib.import_module`): the CLI's registry imports
  them explicitly.

Imports inside functions count too; the source is parsed, nothing is imported."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("motcua", "activities", "workflows", "domain", "bench", "worker.py")

API, CONSOLE, CLI = "motcua.api", "motcua.console", "motcua.cli"
INTERFACES = (API, CONSOLE, CLI)
COMPOSER = "motcua.app"  # the web app: the API with the console mounted on it
# (importer, what it must not import, why)
RULES = (
    (CONSOLE, API, "the console is an adapter over motcua.services, not over the API"),
    (CLI, API, "the CLI is an adapter over motcua.services, not over the API"),
    (API, CONSOLE, "the API and the console meet only in motcua.app"),
    (API, CLI, "the API is an adapter over motcua.services, not over the CLI"),
    (CONSOLE, CLI, "the console is an adapter over motcua.services, not over the CLI"),
    (CLI, CONSOLE, "the CLI is an adapter over motcua.services, not over the console"),
    ("motcua", "activities", "activities import motcua, never the other way round"),
)
SHARED_WHY = "the shared layers serve the interfaces and import none of them"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _files() -> Iterator[Path]:
    for name in SOURCES:
        path = ROOT / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def imports(module: str, source: str) -> set[str]:
    """Every module `source` (the text of `module`) imports, anywhere in it, absolute; for
    `from X import y` both X and X.y (y may be a module)."""
    package = module.rsplit(".", 1)[0] if "." in module else ""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
    return found


def loads_cli_by_name(source: str) -> list[int]:
    """Lines where `source` calls `import_module`/`__import__` with a name that is, or may
    be built into, a `motcua.cli` module."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in ("import_module", "__import__"):
            continue
        text = ast.unparse(node.args[0])
        if "motcua.cli" in text or ("motcua" in text and "{" in text):
            lines.append(node.lineno)
    return lines


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def broken(graph: dict[str, set[str]]) -> list[str]:
    """The imports in `graph` (module -> what it imports) that break a rule, one line each."""
    found = []
    for module, imported in sorted(graph.items()):
        rules = [*RULES]
        if not any(_within(module, i) for i in (*INTERFACES, COMPOSER)):
            rules += [("motcua", i, SHARED_WHY) for i in INTERFACES]
        for importer, forbidden, why in rules:
            if not _within(module, importer):
                continue
            bad = sorted(i for i in imported if _within(i, forbidden))
            found += [f"{module} imports {b}: {why}" for b in bad]
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): imports(_module_name(p), p.read_text(encoding="utf-8"))
            for p in _files()}


def test_no_interface_imports_another() -> None:
    """The console and the CLI import nothing of the API, the API nothing of the console, the
    shared layers no interface, and motcua nothing of activities."""
    assert broken(_graph()) == []


def test_no_cli_module_is_loaded_by_name() -> None:
    """No module loads a CLI module through `importlib.import_module` or `__import__`."""
    found = [f"{p.relative_to(ROOT)}:{line}" for p in _files()
             for line in loads_cli_by_name(p.read_text(encoding="utf-8"))]
    assert found == []


def test_the_web_app_composes_both_interfaces() -> None:
    """The scan sees real imports: `motcua.app` imports both the API and the console, and
    the console the services (so an empty result above is not a blind scan)."""
    graph = _graph()
    assert {"motcua.api.app", "motcua.console"} <= graph["motcua.app"]
    assert any(_within(i, "motcua.services") for i in graph["motcua.console.acting"])


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("motcua.console.x", "from motcua.api.auth import require",
     "motcua.console.x imports motcua.api.auth"),
    ("motcua.console.x", "def f():\n    import motcua.api.routes.actions",
     "motcua.console.x imports motcua.api.routes.actions"),
    ("motcua.cli.x", "from motcua import api", "motcua.cli.x imports motcua.api"),
    ("motcua.api.routes.x", "from ...console import web",
     "motcua.api.routes.x imports motcua.console"),
    ("motcua.notify.x", "from activities.notify import sign",
     "motcua.notify.x imports activities"),
    ("motcua.services.x", "from motcua.console.web import page",
     "motcua.services.x imports motcua.console"),
    ("motcua.lookup", "from motcua.api.views import public_view",
     "motcua.lookup imports motcua.api.views"),
])
def test_the_check_catches(module: str, source: str, expected: str) -> None:
    """Each kind of forbidden import, written the ways Python allows, is reported."""
    found = broken({module: imports(module, source)})
    assert found and found[0].startswith(expected)


@pytest.mark.parametrize("source", [
    'importlib.import_module(f"motcua.cli_{name}")',
    'import_module("motcua.cli." + name)',
    '__import__(f"motcua.{name}")',
])
def test_loading_by_name_is_caught(source: str) -> None:
    """A CLI module loaded by a built name is reported."""
    assert loads_cli_by_name(source) == [1]
