"""The what-if's result document (`motcua.whatif.simulate.Result.as_dict`) and the
recommendation as text: a table for the terminal (`motcua whatif`) and CSV (`motcua whatif
--format csv` and `GET /v1/reports/whatif?format=csv`)."""

from __future__ import annotations

import io
from typing import Any

from motcua import exports

TABLE = (("procedure", "procedure_code"), ("unit", "unit_code"), ("received", "received"),
         ("base rate", "baseline_on_time_rate"), ("sim rate", "simulated_on_time_rate"),
         ("change", "rate_change"), ("base E/O/L", "baseline"), ("sim E/O/L", "simulated"),
         ("->late", "flips_to_late"), ("->on time", "flips_to_on_time"),
         ("slack chg", "mean_slack_change_days"), ("recorded!=", "recorded_verdict_differs"))


def _cell(key: str, row: dict[str, Any]) -> str:
    value = row.get(key)
    if key in ("baseline", "simulated"):
        v = value or {}
        progress = v.get("within_time", 0) + v.get("overdue", 0)
        text = f"{v.get('early', 0)}/{v.get('on_time', 0)}/{v.get('late', 0)}"
        return text + (f" +{progress}" if progress else "")
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:+.4f}" if key == "rate_change" else (
            f"{value:+.2f}" if key.startswith("mean") else f"{value:.4f}")
    return str(value)


def table(lines: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
           for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def render_table(doc: dict[str, Any]) -> str:
    """The what-if for the terminal: policy, the table of rates, flips and skips."""
    rows = [*doc["rows"], {"procedure_code": "TOTAL", "unit_code": doc["filters"]["unit"] or "",
                           **doc["totals"]}]
    lines = [[name for name, _ in TABLE], *[[_cell(k, r) for _, k in TABLE] for r in rows]]
    policy = ", ".join(f"{p['procedure_code']} {p['baseline']} -> {p['proposed']}"
                       for p in doc["policy"][:12]) or "no procedure's time changes"
    more = len(doc["policy"]) - 12
    text = [f"what-if, dossiers received {doc['period']['from']}..{doc['period']['to']}, "
            f"in progress judged at {doc['as_of']}",
            f"policy: {policy}{f' (+{more} more)' if more > 0 else ''}",
            "E/O/L = early/on time/late (+ still in progress); rates: Decision 766 index 2.1",
            "", table(lines), "",
            f"dossiers that flip: {doc['flips']['count']}"
            + "".join(f"\n  {f['code']}: {f['baseline']} -> {f['simulated']}"
                      for f in doc["flips"]["sample"][:10]),
            f"recorded verdict differs from the baseline recomputation: "
            f"{doc['recorded_verdict_differs']['count']}"
            + "".join(f"\n  {d['code']}: recorded {d['recorded']}, recomputed {d['recomputed']}"
                      f" (calendar {d['calendar_version']})"
                      for d in doc["recorded_verdict_differs"]["sample"][:10]),
            f"skipped: {doc['skipped']['count']}"
            + "".join(f"\n  {s['code']}: {s['reason']}" for s in doc["skipped"]["sample"][:5]),
            f"due-time computations: {doc['memo']['due_time_computations']} "
            f"(reused {doc['memo']['reused']})"]
    return "\n".join(text) + "\n"


def render_csv(doc: dict[str, Any]) -> str:
    """One line per procedure and unit, then the total; nested counts flattened into
    `<field>_<count>` columns."""
    out = io.StringIO()
    writer = exports.csv_writer(out)
    header: list[str] = []
    rows = [("group", r) for r in doc["rows"]] + [("total", doc["totals"])]
    for scope, row in rows:
        flat = {"scope": scope, "period_from": doc["period"]["from"],
                "period_to": doc["period"]["to"], "procedure_code": row.get("procedure_code"),
                "unit_code": row.get("unit_code")}
        for k, v in row.items():
            if isinstance(v, dict):
                flat.update({f"{k}_{c}": n for c, n in v.items()})
            elif k not in flat:
                flat[k] = v
        if not header:
            header = list(flat)
            writer.writerow(header)
        writer.writerow(["" if flat.get(h) is None else flat.get(h) for h in header])
    return out.getvalue()



def render_recommend(doc: dict[str, Any]) -> str:
    """`motcua whatif recommend` for the terminal: the advice per procedure, warnings."""
    keys = ("procedure_code", "unit", "current", "recommended", "cut_percent", "sample",
            "baseline_on_time_rate", "on_time_rate_at_recommended")
    lines = [["procedure", "unit", "now", "advice", "cut %", "sample", "rate now",
              "rate after"]]
    for a in doc["procedures"]:
        lines.append(["-" if a[k] is None else (f"{a[k]:.4f}" if isinstance(a[k], float)
                                                and k != "cut_percent" else str(a[k]))
                      for k in keys])
    warnings = [f"  {a['procedure_code']}: {w}" for a in doc["procedures"] for w in a["warnings"]]
    text = [f"recommend, dossiers received {doc['period']['from']}..{doc['period']['to']}, "
            f"target on-time rate {doc['target']}", "", table(lines)]
    if warnings:
        text += ["", "warnings:", *warnings]
    if doc.get("written"):
        text += ["", f"catalog file written: {doc['written']}"]
    return "\n".join(text) + "\n"
