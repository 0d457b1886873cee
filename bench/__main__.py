"""`python -m bench [--quick] [--only name,...] [--json PATH]`: run the benchmarks, print a
table, and write the results as JSON (`bench/results/<timestamp>.json` and `latest.json`).

Quick mode runs every benchmark small, to keep them working (`make test` runs it); its numbers
are not the project's results. The full mode is `make bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import importlib
import json
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import results_table, system
from bench.harness import Result

BENCHMARKS = ("lifecycle", "latency", "storm", "footprint", "workers", "reports", "whatif")
RESULTS = Path(__file__).resolve().parent / "results"
Bench = Callable[[bool, Path], Awaitable[Result]]


def _load(name: str) -> Bench:
    module = importlib.import_module(f"bench.{'report_scale' if name == 'reports' else name}")
    fn: Bench = module.bench
    return fn


async def run_all(names: Sequence[str], quick: bool, results_dir: Path) -> list[Result]:
    results = []
    for name in names:
        print(f"== {name} ({'quick' if quick else 'full'}) ...", flush=True)
        started = time.monotonic()
        try:
            result = await _load(name)(quick, results_dir)
        except Exception as err:
            traceback.print_exc()
            result = Result(name, name, error=f"{type(err).__name__}: {err}")
        result.seconds = round(time.monotonic() - started, 1)
        result.params["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        print(f"   done in {result.seconds:.0f}s", flush=True)
        results.append(result)
    return results


def table(results: Sequence[Result]) -> str:
    """The results as a fixed-width text table."""
    rows = [("benchmark", "measured", "value", "target", "met?")]
    for r in results:
        if r.error:
            rows.append((r.name, "ERROR", r.error[:60], "", ""))
        for m in r.metrics:
            met = "" if m.met is None else ("yes" if m.met else "NO")
            rows.append((r.name, m.name, m.shown(), m.target or "", met))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def describe(quick: bool, started: datetime) -> dict[str, Any]:
    """What the run measures: taken before it starts (a commit made meanwhile is not it)."""
    return {"started_at": started.isoformat(), "mode": "quick" if quick else "full",
            "command": system.command(), "machine": system.machine(),
            "versions": system.versions(), "git": system.git()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small runs that keep it working")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",")] if args.only else list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ") + ("-quick" if args.quick else "")
    # Full runs keep their profiles beside the JSON (run artefacts, ignored by git: the summary
    # of each profile is in the JSON).
    results_dir = RESULTS if not args.quick else Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    doc = describe(args.quick, started)
    try:
        results = asyncio.run(run_all(names, args.quick, results_dir))
    finally:
        if args.quick:
            shutil.rmtree(results_dir, ignore_errors=True)
    doc["results"] = [dataclasses.asdict(r) for r in results]
    text = json.dumps(doc, indent=2, ensure_ascii=False, default=str)
    # A quick run (make test) leaves no file in the repository unless asked to.
    if args.quick:
        paths = [args.json] if args.json else [RESULTS / "latest-quick.json"]
    else:
        paths = [RESULTS / f"{stamp}.json", RESULTS / "latest.json",
                 *([args.json] if args.json else [])]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    print()
    print(table(results))
    m, v = doc["machine"], doc["versions"]
    print(f"\nmachine: {m['cpu_model']}, {m['cores']} cores, {m['memory_gib']} GiB, "
          f"load at start {m['load_average_at_start']}, "
          f"reference workload {m['reference_ms']} ms")
    print(f"versions: Python {v['python']}, temporalio {v['temporalio']}, "
          f"{v['temporal_cli']}, {v['postgresql']}")
    print(f"commit: {doc['git']['commit']}{' (with local changes)' if doc['git']['dirty'] else ''}")
    print(f"command: {doc['command']}")
    print(f"written: {', '.join(str(p) for p in paths)}")
    if not args.quick and set(names) == set(BENCHMARKS):  # the README shows whole runs only
        print(f"table: {results_table.publish(doc, paths[0])} and {results_table.README}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
