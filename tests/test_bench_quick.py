"""The benchmarks keep working: `python -m bench --quick` runs each one small (about a minute
and a half on two cores) and writes its JSON. Quick numbers are not results, so the targets are
not asserted here; `make bench` measures them."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS, table
from bench.harness import Metric, Result, percentile

ROOT = Path(__file__).resolve().parent.parent


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))


def test_table_shows_targets_and_errors() -> None:
    ok = Result("x", "x", metrics=[Metric("p99", 12.5, "ms", "< 100 ms", True)])
    bad = Result("y", "y", error="RuntimeError: boom")
    text = table([ok, bad])
    assert "12.5 ms" in text and "< 100 ms" in text and "yes" in text
    assert "ERROR" in text and "boom" in text


@pytest.mark.engine  # `bench --quick` starts its own stack, in a subprocess
@pytest.mark.timeout(420)
def test_quick_run_produces_every_number(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["mode"] == "quick"
    assert "--quick" in doc["command"]
    assert doc["machine"]["cores"] >= 1 and doc["machine"]["cpu_model"]
    for key in ("python", "temporalio", "temporal_cli", "postgresql"):
        assert doc["versions"][key] not in ("", "missing", "unknown"), key
    assert doc["git"]["commit"]
    results = {r["name"]: r for r in doc["results"]}
    assert set(results) == set(BENCHMARKS)
    for name, result in results.items():
        assert result["error"] is None, (name, result["error"])
        assert result["metrics"], name
        for metric in result["metrics"]:
            value = metric["value"]
            assert isinstance(value, int | float) and not math.isnan(value), (name, metric)
        targets = [m for m in result["metrics"] if m["target"]]
        assert all(isinstance(m["met"], bool) for m in targets), name
    assert "benchmark" in done.stdout and "command:" in done.stdout
