"""CPU time per part of the stack, from /proc: who eats the two cores during a benchmark.

A part is a process and its live descendants (PostgreSQL's backends are children of the
postmaster; an exited child's time is in its parent's `cutime`/`cstime`, counted too).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of the process and its reaped children)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    # After the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based.
    ppid = int(fields[1])
    ticks = sum(int(f) for f in fields[11:15])
    return ppid, ticks / _TICK


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _table() -> dict[int, tuple[int, float]]:
    out: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            out[int(entry)] = stat
    return out


def tree_seconds(roots: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process tree."""
    table = _table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out: dict[str, float] = {}
    for name, root in roots.items():
        if root == os.getpid():  # this process alone: the stack's processes are its children
            out[name] = _own_seconds()
            continue
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in table:
                total += table[pid][1]
                todo.extend(children.get(pid, []))
        out[name] = total
    return out


class CpuMeter:
    """CPU seconds per part between `start()` and `stop()`."""

    def __init__(self, roots: Mapping[str, int]) -> None:
        self.roots = dict(roots)
        self._before: dict[str, float] = {}

    def start(self) -> None:
        self._before = tree_seconds(self.roots)

    def stop(self) -> dict[str, float]:
        after = tree_seconds(self.roots)
        return {name: round(after[name] - self._before.get(name, 0.0), 2) for name in after}
