"""The worker's workflow sandbox modes side by side on one stack: lifecycles per second through
the API and CPU per lifecycle per process, with the worker restarted in each mode in turn
(`MOTCUA_WORKFLOW_SANDBOX`), between two runs of the bare workflow (`bench.bare`).

`python -m bench.sandbox_compare [--lifecycles 300] [--modes shared,off,off,shared]`
`python -m bench.sandbox_compare --setting MOTCUA_PROJECTOR_GATHER_MS --services projector \
    --modes 0,50,50,0` (any setting, with the services that read it restarted for each value)

Alternating the modes (the default order runs each twice, ABBA) spreads the drift of a shared
machine over both. Not part of `make bench` (about 5 minutes): the measurement behind the
default `MOTCUA_WORKFLOW_SANDBOX=off` (`docs/decisions.md`); rerun it when the SDK changes.
"""

from __future__ import annotations

import argparse
import asyncio

from bench.harness import running_stack
from bench.lifecycle import api_run, bare_run, metered_api_run, start_bare_worker, warm_bare
from bench.system import machine

CONCURRENCY = 16


def _line(label: str, count: int, seconds: float, cpu: dict[str, float]) -> str:
    parts = " ".join(f"{k}={1000 * v / count:.0f}" for k, v in cpu.items() if v > 0.05)
    return (f"{label:8} {count / seconds:6.2f} lifecycles/s  CPU per lifecycle "
            f"{1000 * sum(cpu.values()) / count:6.1f} ms  ({parts})")


async def compare(count: int, modes: list[str], setting: str = "MOTCUA_WORKFLOW_SANDBOX",
                  services: tuple[str, ...] = ("worker",)) -> list[str]:
    lines = []
    async with running_stack("sandbox-compare") as run:
        queue = "bench-bare"
        worker = start_bare_worker(run, queue)
        try:
            await warm_bare(run, worker, queue, CONCURRENCY)
            seconds, cpu = await bare_run(run, worker, queue, count, CONCURRENCY, "bare1")
            lines.append(_line("bare", count, seconds, cpu))
            for mode in modes:
                for service in services:
                    run.stack.stop(service)
                    await asyncio.to_thread(run.stack.start, service, env={setting: mode})
                await api_run(run, 2 * CONCURRENCY, CONCURRENCY)  # warm: worker caches
                _, projected, cpu = await metered_api_run(run, worker, count, CONCURRENCY)
                lines.append(_line(mode, count, projected, cpu))
            seconds, cpu = await bare_run(run, worker, queue, count, CONCURRENCY, "bare2")
            lines.append(_line("bare", count, seconds, cpu))
        finally:
            worker.terminate()
            worker.wait(20)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lifecycles", type=int, default=300)
    parser.add_argument("--modes", default="shared,off,off,shared")
    parser.add_argument("--setting", default="MOTCUA_WORKFLOW_SANDBOX",
                        help="the setting the modes are values of")
    parser.add_argument("--services", default="worker",
                        help="which services restart with each mode (e.g. worker,projector,api)")
    args = parser.parse_args()
    m = machine()
    print(f"machine: {m['cpu_model']}, {m['cores']} cores, load {m['load_average_at_start']}, "
          f"reference workload {m['reference_ms']} ms")
    print(f"{args.lifecycles} lifecycles per run at {CONCURRENCY} clients, one stack; "
          "bare = bench.bare (SDK default sandbox)")
    print(f"{args.setting} = each mode in turn, restarting {args.services}")
    for line in asyncio.run(compare(args.lifecycles, args.modes.split(","), args.setting,
                                    tuple(args.services.split(",")))):
        print(line, flush=True)


if __name__ == "__main__":
    main()
