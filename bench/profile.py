"""Sampling profiles of the stack's Python processes with py-spy (no code change, attached
by pid), and a summary of where the samples fall.

`record` starts one `py-spy record --nonblocking --gil` per process (the target is never
paused; only samples of the thread holding the GIL are kept, i.e. Python running, not threads
blocked in a wait) and `stop` ends them with SIGINT, at which py-spy writes its file: a flame
graph (`.svg`) or collapsed stacks (`.txt`, one `frame;frame;... count` line per stack, the
input of any flame graph tool and of speedscope.app). `summarize` reads the collapsed stacks.
"""

from __future__ import annotations

import collections
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def py_spy() -> str | None:
    """The py-spy executable beside this interpreter, or on PATH; None when missing."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Recorder:
    """py-spy attached to several processes at once."""

    def __init__(self, out_dir: Path, pids: Mapping[str, int], *, fmt: str = "raw",
                 rate: int = 100) -> None:
        self.out_dir, self.pids, self.fmt, self.rate = out_dir, dict(pids), fmt, rate
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.files: dict[str, Path] = {}

    def start(self) -> None:
        exe = py_spy()
        if exe is None:
            raise RuntimeError("py-spy is not installed (pip install py-spy)")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        suffix = {"raw": "txt", "flamegraph": "svg", "speedscope": "json"}[self.fmt]
        for name, pid in self.pids.items():
            path = self.out_dir / f"profile-{name}.{suffix}"
            self.files[name] = path
            self.procs[name] = subprocess.Popen(
                [exe, "record", "--pid", str(pid), "--rate", str(self.rate), "--nonblocking",
                 "--gil", "--format", self.fmt, "-o", str(path)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def stop(self) -> dict[str, Path]:
        """Stop sampling and wait for the files; returns those written."""
        for proc in self.procs.values():
            proc.send_signal(signal.SIGINT)
        for name, proc in self.procs.items():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            if not self.files[name].exists():
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                print(f"  py-spy wrote nothing for {name}: {err.strip()[-300:]}")
        return {n: p for n, p in self.files.items() if p.exists()}


def _short(frame: str) -> str:
    """`func (path:line)` as `func (pkg/module.py)`: lines dropped, paths shortened."""
    m = _FRAME.match(frame.strip())
    if m is None:
        return frame.strip()
    path = m["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m['func']} ({path})"


def _area(frame: str) -> str | None:
    """A coarse owner of a frame, for the 'where does the time go' split."""
    rules = (("temporalio/worker/workflow_sandbox", "temporalio workflow sandbox"),
             ("temporalio/", "temporalio SDK"), ("asyncpg/", "asyncpg"),
             ("structlog/", "structlog"), ("pydantic", "pydantic"), ("fastapi/", "fastapi"),
             ("starlette/", "starlette"), ("uvicorn/", "uvicorn"), ("httpx", "httpx"),
             ("json/", "json"), ("domain/", "motcua domain"), ("workflows/", "motcua workflow"),
             ("activities/", "motcua activities"), ("motcua/", "motcua (api/eventstore)"),
             ("asyncio/", "asyncio"), ("prometheus_client", "prometheus_client"))
    for needle, area in rules:
        if needle in frame:
            return area
    return None


def summarize(path: Path, seconds: float, rate: int = 100, top: int = 12) -> dict[str, Any]:
    """Self time per function, inclusive time per function, and samples by the deepest
    recognised area, from a py-spy collapsed-stack file (idle samples are not in it)."""
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    areas: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        n = int(count_text)
        frames = [_short(f) for f in stack.split(";")]
        frames = [f for f in frames if not f.startswith(("process ", "thread "))] or frames
        total += n
        self_time[frames[-1]] += n
        for f in set(frames):
            if _area(f) not in (None, "asyncio"):  # the frames that say what runs
                inclusive[f] += n
        raw = stack.split(";")
        areas[next((a for f in reversed(raw) if (a := _area(f))), "other")] += n

    def share(counter: collections.Counter[str]) -> list[tuple[str, float]]:
        return [(k, round(100 * v / total, 1)) for k, v in counter.most_common(top)] \
            if total else []

    return {"samples": total, "busy_fraction": round(total / (seconds * rate), 3)
            if seconds else None, "self_pct": share(self_time),
            "inclusive_pct": share(inclusive), "areas_pct": share(areas)}
