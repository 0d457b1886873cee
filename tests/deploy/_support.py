"""Shared helpers for the deploy tests: where the files are, and external validators.

promtool and amtool come from Debian (`.ci/apt-packages`). Locally a missing tool skips its
tests; in CI (env CI set) it fails them, so a broken install step cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PROMETHEUS = DEPLOY / "prometheus"
RULES_FILE = PROMETHEUS / "rules" / "motcua.rules.yml"


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed; CI installs it from .ci/apt-packages")
    pytest.skip(f"{name} is not installed (apt-get install prometheus prometheus-alertmanager)")


def run(args: list[str], cwd: Path | None = None, stdin: str | None = None) -> str:
    """Run a validator; fail the test with its whole output when it exits non-zero."""
    proc = subprocess.run(args, cwd=cwd, input=stdin, capture_output=True, text=True,
                          timeout=120, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}:\n{output}"
    return output
