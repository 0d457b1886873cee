"""The bare-timer storm on the dev server as `temporal server start-dev` configures it and as
motcua tunes it (`TUNED_DYNAMIC_CONFIG`, `TUNED_SQLITE_PRAGMAS`), one after the other on this
machine: does the tuning raise the ceiling here, and what does each alert cost in CPU?

`python -m bench.storm_compare [--workflows 5000] [--window 60] [--order default,tuned]`

Each server is fresh (its own SQLite file); the bare worker runs as its own process
(`python -m bench.bare_storm worker`). The server's and the worker's CPU are sampled once a
second from /proc, and the CPU spent from the first due instant to the last alert, divided by
the alerts, is what one alert costs. Not part of `make bench` (about 10 minutes): an
experiment to rerun when the embedded server's settings are in question.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import bare_storm
from bench.cpu import tree_seconds
from bench.harness import percentile
from bench.system import machine
from motcua.devstack.procs import free_port
from motcua.devstack.temporal_server import TemporalDevServer

Sample = tuple[float, float, float]  # (epoch seconds, server CPU s, worker CPU s)


class Sampler:
    """CPU seconds of two processes, once a second, in a thread."""

    def __init__(self, server: int, worker: int) -> None:
        self.pids = {"server": server, "worker": worker}
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            cpu = tree_seconds(self.pids)
            self.samples.append((time.time(), cpu["server"], cpu["worker"]))
            self._stop.wait(1.0)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def since(self, epoch: float) -> tuple[float, float]:
        """CPU (server, worker) used from the sample nearest `epoch` to the last one."""
        first = min(self.samples, key=lambda s: abs(s[0] - epoch))
        last = self.samples[-1]
        return last[1] - first[1], last[2] - first[2]


def run_one(tuned: bool, n: int, window_s: float, work: Path) -> dict[str, float]:
    server = TemporalDevServer(work / f"{'tuned' if tuned else 'default'}.db", port=free_port(),
                               tuned=tuned)
    server.start()
    queue = "bare-storm-compare"
    worker = subprocess.Popen(
        [sys.executable, "-m", "bench.bare_storm", "worker", server.address, queue,
         str(n + 1000)])
    try:
        time.sleep(2.0)
        assert server.proc is not None
        with Sampler(server.proc.pid, worker.pid) as sampler:
            storm = asyncio.run(bare_storm.storm(server.address, queue, n, window_s, "cmp"))
        first_due = storm.first_due.timestamp()
        fired = [first_due + window_s * i / n + late for i, late in enumerate(storm.lateness_s)]
        span = max(fired) - first_due
        cpu_server, cpu_worker = sampler.since(first_due)
        return {"alerts_per_s": n / span, "p50_s": percentile(storm.lateness_s, 50),
                "p99_s": percentile(storm.lateness_s, 99), "max_s": max(storm.lateness_s),
                "start_s": storm.start_s, "started_after_due": storm.started_after_due,
                "server_cpu_ms_per_alert": cpu_server / n * 1000,
                "worker_cpu_ms_per_alert": cpu_worker / n * 1000}
    finally:
        worker.terminate()
        worker.wait(20)
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.storm_compare")
    parser.add_argument("--workflows", type=int, default=5000)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--order", default="default,tuned")
    args = parser.parse_args(argv)
    order = [name.strip() for name in args.order.split(",")]
    if not set(order) <= {"default", "tuned"}:
        parser.error("--order takes default and tuned")
    print(f"machine: {machine()}")
    print(f"bare-timer storm: {args.workflows} workflows due over {args.window:.0f} s, "
          "one worker (max_concurrent_workflow_tasks=200), update-with-start 100 at a time")
    with tempfile.TemporaryDirectory(prefix="storm-compare-") as folder:
        for name in order:
            r = run_one(name == "tuned", args.workflows, args.window, Path(folder))
            print(f"{name:8s} {r['alerts_per_s']:6.1f} alerts/s  lateness p50 {r['p50_s']:6.2f} s"
                  f"  p99 {r['p99_s']:6.2f} s  max {r['max_s']:6.2f} s  starts {r['start_s']:.0f} s"
                  f" ({r['started_after_due']:.0f} after their due time)  CPU per alert: server"
                  f" {r['server_cpu_ms_per_alert']:.1f} ms, worker"
                  f" {r['worker_cpu_ms_per_alert']:.1f} ms", flush=True)
    print("rerun: python -m bench.storm_compare")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
