"""Benchmark 5: policy what-if, recommend and the lateness forecast at scale (issue 15).

1,000,000 dossiers over two years (`bench.reportgen`: each procedure's time from the catalog,
a log-normal spread of working days taken around each procedure's pace), loaded as for the
reports benchmark. Then, timed, through the library calls the CLI and the API make:

* `motcua whatif --cut 30` over the whole history (target < 60 s), streaming the read model
  through a server-side cursor; and `--cut 0`, checked equal to the baseline;
* `motcua whatif recommend --target 0.99` (target < 5 min);
* the forecast's backtest: at every fifth working day between 74 and 15 days ago, learn from
  the year before, forecast the dossiers open then, and compare with how they ended
  (calibration: of those given 80% or more, the share that finished late; Brier score; a
  reliability table).

Also the forecast's refresh as the API runs it every 5 minutes (learn from the last year, score
every open dossier). Peak memory is the bench process's maximum RSS, generator included (the
what-if itself holds tallies and memo, and one batch of rows).
"""

from __future__ import annotations

import resource
import time
from datetime import date, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

import asyncpg

from bench.harness import Result, running_stack
from bench.report_scale import load
from bench.reportgen import today_in_office
from motcua.config import Settings
from motcua.runtime import calendar_for, catalog_for
from motcua.whatif import forecast
from motcua.whatif import simulate as whatif
from motcua.whatif.recommend import recommend

WHATIF_TARGET_S = 60.0
RECOMMEND_TARGET_S = 300.0


def _rss_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def measure(dsn: str, first: date, last: date) -> dict[str, Any]:
    """Run what-if (cut 30 and 0), recommend and the backtest on the loaded database."""
    settings = Settings()
    cal, catalog = calendar_for(settings), catalog_for(settings)
    baseline = whatif.in_force(catalog)
    as_of = today_in_office(cal)
    out: dict[str, Any] = {}
    conn = await asyncpg.connect(dsn)
    try:
        for cut in (30.0, 0.0):
            started = time.perf_counter()
            result = await whatif.run(conn, start=first, end=last, calendar=cal,
                                      baseline=baseline,
                                      proposed=whatif.cut_policy(baseline, cut), as_of=as_of,
                                      verification=whatif.verification_maxima(catalog))
            seconds = time.perf_counter() - started
            totals = result.totals().as_dict()
            out[f"cut {cut:g}"] = {
                "seconds": round(seconds, 2), "dossiers": totals["received"],
                "dossiers_per_second": round(totals["received"] / seconds),
                "baseline_on_time_rate": totals["baseline_on_time_rate"],
                "simulated_on_time_rate": totals["simulated_on_time_rate"],
                "flips_to_late": totals["flips_to_late"],
                "mean_slack_change_days": totals["mean_slack_change_days"],
                "recorded_verdict_differs": result.differs_count,
                "skipped": result.skipped_count, "due_time_computations": result.computations,
                "memo_reused": result.reused,
                "equals_baseline": all(t.baseline == t.simulated
                                       for t in result.groups.values())}
        started = time.perf_counter()
        advice, skipped = await recommend(conn, start=first, end=last, calendar=cal,
                                          baseline=baseline, target=0.99, as_of=as_of,
                                          verification=whatif.verification_maxima(catalog))
        out["recommend"] = {
            "seconds": round(time.perf_counter() - started, 2), "skipped": skipped,
            "procedures": len(advice),
            "cuttable": sum(1 for a in advice if a["recommended"] < a["current"]),
            "sample": [{k: a[k] for k in ("procedure_code", "unit", "current", "recommended",
                                          "sample", "baseline_on_time_rate",
                                          "on_time_rate_at_recommended")}
                       for a in advice[:8]]}
        # Every fifth working day of the 60 days before the last fortnight, at 10:00.
        days = [as_of - timedelta(days=d) for d in range(74, 14, -1)]
        cutoffs = [cal.at(d, time_of_day(10)) for d in days if cal.is_working_day(d)][::5]
        started = time.perf_counter()
        out["backtest"] = await forecast.backtest(conn, cal, cutoffs)
        out["backtest"]["seconds"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        snapshot = await forecast.assess(conn, cal)  # what the API's refresher does
        out["forecast_refresh"] = {"seconds": round(time.perf_counter() - started, 2),
                                   "model_samples": snapshot.model_size,
                                   "at_risk": sum(snapshot.at_risk.values())}
    finally:
        await conn.close()
    out["peak_rss_mib"] = _rss_mib()
    return out


async def bench(quick: bool, results_dir: Path) -> Result:
    n = 5_000 if quick else 1_000_000
    result = Result("whatif", "Policy what-if, recommend and forecast calibration at scale",
                    params={"dossiers": n})
    async with running_stack("whatif", children=()) as run:
        loaded = await load(run.stack.postgres.dsn, n)
        result.params["load"] = loaded
        measured = await measure(run.stack.postgres.dsn, date.fromisoformat(loaded["first_day"]),
                                 date.fromisoformat(loaded["last_day"]))
    result.params.update(measured)
    cut, zero, rec, bt = (measured["cut 30"], measured["cut 0"], measured["recommend"],
                          measured["backtest"])
    result.add("what-if --cut 30", cut["seconds"], "s", target=f"< {WHATIF_TARGET_S:.0f} s",
               met=cut["seconds"] < WHATIF_TARGET_S)
    result.add("what-if dossiers/s", cut["dossiers_per_second"], "1/s")
    result.add("what-if --cut 0 equals baseline", int(zero["equals_baseline"]), "",
               target="1", met=bool(zero["equals_baseline"]))
    result.add("recommend --target 0.99", rec["seconds"], "s",
               target=f"< {RECOMMEND_TARGET_S:.0f} s", met=rec["seconds"] < RECOMMEND_TARGET_S)
    result.add("forecast: dossiers scored", bt["scored"], "")
    if bt["flagged_late_share"] is not None:
        result.add("forecast: late share of P>=0.8", bt["flagged_late_share"], "")
    if bt["brier"] is not None:
        result.add("forecast: Brier score", bt["brier"], "")
        result.add("forecast: calibration error", bt["calibration_error"], "")
    result.add("forecast refresh (learn + score open)", measured["forecast_refresh"]["seconds"],
               "s")
    result.add("peak RSS (bench process)", measured["peak_rss_mib"], "MiB")
    return result
