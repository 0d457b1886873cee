"""`whatif recommend`: for each procedure, the deepest cut of its time (in whole units) that
would have kept its on-time rate at or above a target over a period.

One pass over the dossiers received in the period. For each dossier the smallest amount of its
procedure's unit under which it would still have counted as on time (Decision 766 index 2.1:
resolved early or on time, or in progress within time) is found by bisection: a due time never
moves earlier when the amount grows (`domain.clock.due_at` is monotone, property-tested), so
neither does the verdict. A dossier late even under the time in force can never be on time; a
withdrawn one always is. The on-time rate under amount k is then the share of dossiers whose
smallest amount is at most k, for every k at once; the recommendation is the smallest k whose
rate reaches the target. Due times follow `motcua.whatif.simulate` (same counting rules and pauses;
dossiers under the maximum for verification keep it), so the rate at the time in force is the
what-if's baseline rate.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping
from datetime import date
from typing import Any

from domain.calendar import Calendar, DateOutsideCalendar
from motcua.eventstore.store import Conn
from motcua.whatif.simulate import _OK, Clock, Inputs, Simulator, WhatIfError, fold, records

MIN_SAMPLE = 30  # below this many dossiers a rate says little: the advice carries a warning


@dataclasses.dataclass
class Advice:
    """What the period says about one procedure's time."""

    procedure_code: str
    clock: Clock
    sample: int = 0
    never: int = 0  # late even under the time in force
    smallest: Counter[int] = dataclasses.field(default_factory=Counter)  # amount -> dossiers

    def rate(self, amount: int) -> float | None:
        """The on-time rate had the time been `amount` units."""
        if not self.sample:
            return None
        return sum(n for k, n in self.smallest.items() if k <= amount) / self.sample

    def deepest(self, target: float) -> int:
        """The smallest amount whose rate reaches `target` (the time in force if none does)."""
        ok = 0
        for k in sorted(self.smallest):
            ok += self.smallest[k]
            if ok >= target * self.sample - 1e-9:
                return k
        return self.clock.amount

    def as_dict(self, target: float) -> dict[str, Any]:
        k = self.deepest(target)
        base, new = self.rate(self.clock.amount), self.rate(k)
        warnings = []
        if self.sample < MIN_SAMPLE:
            warnings.append(f"only {self.sample} dossier(s) in the period (fewer than "
                            f"{MIN_SAMPLE}): too few to rest a decision on")
        if base is not None and base < target:
            warnings.append(f"the on-time rate under the time in force ({base:.4f}) is already "
                            f"below the target: no cut")
        return {"procedure_code": self.procedure_code, "unit": self.clock.unit.value,
                "current": self.clock.amount, "recommended": k,
                "cut_units": self.clock.amount - k,
                "cut_percent": round(100 * (self.clock.amount - k) / self.clock.amount, 1),
                "sample": self.sample, "baseline_on_time_rate": _round(base),
                "on_time_rate_at_recommended": _round(new), "warnings": warnings}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


class Recommender:
    """Folds dossiers into one `Advice` per procedure."""

    def __init__(self, cal: Calendar, baseline: Mapping[str, Clock], as_of: date,
                 verification: Mapping[str, Clock] | None = None) -> None:
        self.base = Simulator(cal, baseline, as_of)
        self.verification = verification or {}
        self.advice: dict[str, Advice] = {}
        self.skipped = 0
        self._clocks: dict[tuple[Clock, int], Clock] = {}

    def _clock(self, clock: Clock, amount: int) -> Clock:
        key = (clock, amount)
        found = self._clocks.get(key)
        if found is None:
            found = self._clocks[key] = dataclasses.replace(clock, amount=amount)
        return found

    def _ok(self, d: Inputs, clock: Clock) -> bool:
        return _OK[self.base.verdict(d, self.base.due(d, clock))]

    def smallest_ok(self, d: Inputs, clock: Clock) -> int | None:
        """The smallest amount of `clock.unit` keeping `d` on time, None if even the time in
        force does not. A dossier under the maximum for verification is judged under it: a cut
        does not touch it (1 if on time, else None)."""
        if d.verification:
            maximum = self.verification.get(d.procedure_code)
            if maximum is None:
                raise LookupError(d.procedure_code)
            return 1 if self._ok(d, maximum) else None
        if not self._ok(d, clock):
            return None
        lo, hi = 1, clock.amount  # on time at hi
        while lo < hi:
            mid = (lo + hi) // 2
            if self._ok(d, self._clock(clock, mid)):
                hi = mid
            else:
                lo = mid + 1
        return hi

    def add(self, d: Inputs) -> None:
        clock = self.base.clocks.get(d.procedure_code)
        if clock is None:
            self.skipped += 1
            return
        advice = self.advice.get(d.procedure_code)
        if advice is None:
            advice = self.advice[d.procedure_code] = Advice(d.procedure_code, clock)
        try:
            k = self.smallest_ok(d, clock)
        except (DateOutsideCalendar, LookupError):
            self.skipped += 1
            return
        advice.sample += 1
        if k is None:
            advice.never += 1
        else:
            advice.smallest[k] += 1


async def recommend(conn: Conn, *, start: date, end: date, calendar: Calendar,
                    baseline: Mapping[str, Clock], target: float, as_of: date,
                    unit: str | None = None, verification: Mapping[str, Clock] | None = None
                    ) -> tuple[list[dict[str, Any]], int]:
    """Per procedure with dossiers in the period, the advice (see `Advice.as_dict`), and how
    many dossiers were skipped (procedure not in the catalog, date outside the calendar)."""
    if not 0 < target <= 1:
        raise WhatIfError(f"--target must be a fraction in (0, 1], e.g. 0.99; got {target}")
    folder = Recommender(calendar, baseline, as_of, verification)
    await fold(records(conn, start, end, calendar, unit=unit), folder.add)
    return ([a.as_dict(target) for _, a in sorted(folder.advice.items())], folder.skipped)
