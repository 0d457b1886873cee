"""The README's benchmark table is written from a run's JSON, and says what code it measured."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench import results_table
from bench.results_table import END, START, markdown, publish, splice, stamped

LATEST = results_table.RESULTS / "latest.json"


@pytest.fixture(scope="module")
def latest() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(LATEST.read_text(encoding="utf-8"))
    return doc


def test_every_metric_of_the_run_is_in_the_table(latest: dict[str, Any]) -> None:
    """One row per metric, with its value as the bench prints it, target and verdict."""
    text = markdown(latest, "bench/results/x.json")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    failed = [r for r in latest["results"] if r.get("error")]
    metrics = [m for r in latest["results"] for m in r["metrics"]]
    # the header, one row per failed benchmark (its error), then one per metric
    assert len(rows) == 1 + len(failed) + len(metrics)
    assert sum(" | failed | " in row for row in rows) == len(failed)
    rows = [row for row in rows if " | failed | " not in row]
    for metric, row in zip(metrics, rows[1:], strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == metric["name"]
        assert cells[3] == (metric["target"] or "")
        assert cells[4] == {None: "", True: "yes", False: "no"}[metric["met"]]


def test_provenance_names_date_file_commit_and_local_changes(latest: dict[str, Any]) -> None:
    """A run on a modified tree is described as such; a clean one as clean."""
    text = markdown(latest, "bench/results/20261126T212950Z.json")
    assert latest["started_at"][:10] in text
    assert "bench/results/20261126T212950Z.json" in text
    assert f"`{latest['git']['commit'][:7]}`" in text
    clean = copy.deepcopy(latest)
    clean["git"]["dirty"] = False
    assert ("uncommitted local changes" in text) is bool(latest["git"]["dirty"])
    assert "uncommitted" not in markdown(clean, "x.json")
    assert "clean tree" in markdown(clean, "x.json")


def test_a_failed_benchmark_shows_its_error(latest: dict[str, Any]) -> None:
    failed = copy.deepcopy(latest)
    failed["results"][0]["metrics"] = []
    failed["results"][0]["error"] = "RPCError: Workflow Task in failed state"
    text = markdown(failed, "x.json")
    assert "| failed | RPCError: Workflow Task in failed state |" in text


def test_splice_replaces_only_between_the_markers() -> None:
    readme = f"intro\n{START}\nold table\n{END}\noutro\n"
    once = splice(readme, "new table\n")
    assert once == f"intro\n{START}\nnew table\n{END}\noutro\n"
    assert splice(once, "new table\n") == once  # idempotent
    with pytest.raises(ValueError, match="markers"):
        splice("no markers here", "x")


def test_publish_writes_results_md_and_the_readme(tmp_path: Path,
                                                  latest: dict[str, Any]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# r\n{START}\n{END}\nrest\n", encoding="utf-8")
    out = publish(latest, LATEST, results=tmp_path, readme=readme)
    written = readme.read_text(encoding="utf-8")
    assert out == tmp_path / "RESULTS.md"
    block = markdown(latest, "bench/results/latest.json")
    assert block in out.read_text(encoding="utf-8")
    assert written == f"# r\n{START}\n{block}{END}\nrest\n"


def test_latest_json_is_named_by_its_own_stamped_file(latest: dict[str, Any]) -> None:
    """`latest.json` is a copy: the table cites the run's own timestamped file."""
    own = stamped(latest)
    assert own is not None
    assert json.loads(own.read_text(encoding="utf-8")) == latest
