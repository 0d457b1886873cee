"""Procedure and unit catalog types: what a dossier is processed under, and by whom.

Pure: no I/O, standard library only. The loader (`motcua.catalog.source`) reads the YAML files,
checks their shape and builds these objects; the invariants that hold for *any* catalog (amounts
positive, reduced time not longer than the prescribed one...) are checked here, in
`__post_init__`, so a hand-built catalog in a test obeys them too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

Level = Literal["province", "commune"]
LEVELS: tuple[Level, ...] = ("province", "commune")

# National procedure codes look like 1.001193 (one digit, dot, six digits). Procedures whose
# national code we do not know get a local code with an "L." prefix so they can never collide
# with, or be mistaken for, a national one.
NATIONAL_CODE = re.compile(r"^\d\.\d{6}$")
# A province publishes some procedures under the national form followed by a dot and its own
# letter-and-two-digit suffix, e.g. 3.000527.H61 (Vĩnh Long 2682/QĐ-UBND of 20 Nov 2025,
# Phụ lục I; copy: tnt305/tai_lieu_noi_bo src/etl/dataset/b3a4b2605f9a281f.md).
PROVINCIAL_CODE = re.compile(r"^\d\.\d{6}\.[A-Z]\d{2}$")
LOCAL_CODE = re.compile(r"^L\.[a-z0-9][a-z0-9.-]*$")
# Agency ids as printed in dossier codes. Two forms are accepted:
# * the older one, level-one code rightmost, e.g. 000.00.15.H35;
# * Decision 20/2020/QĐ-TTg art. 4: at most 35 characters, groups of 0-9 and A-Z separated by
#   dots, developed left to right, the level-one code "MX1X2" (M a letter A-Y, X1X2 digits)
#   leftmost, e.g. H39.21.05 (copy: tnt305/tai_lieu_noi_bo src/etl/dataset/1747c214cb9ddfd8.md).
LEGACY_UNIT_CODE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
DECISION_20_UNIT_CODE = re.compile(r"^[A-Y]\d{2}(?:\.[0-9A-Z]{1,10})*$")
UNIT_CODE_MAX = 35


def is_unit_code(code: str) -> bool:
    """Whether `code` is an agency id in either accepted form (see above)."""
    return len(code) <= UNIT_CODE_MAX and bool(
        LEGACY_UNIT_CODE.match(code) or DECISION_20_UNIT_CODE.match(code))


class TimeUnit(StrEnum):
    """The unit a procedure's processing time is stated in."""

    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    WORKING_HOURS = "working_hours"
    SAME_DAY = "same_day"
    MONTHS = "months"


class CountingRule(StrEnum):
    """How a time in days is turned into an instant (see `domain.clock.due_at`)."""

    # Civil Code art. 147-148: counting starts the day after receipt and the period ends at the
    # close of office hours of its last day; receipt after hours or on a day off counts as
    # receipt on the next working day.
    CIVIL_CODE = "civil_code"
    # Some provinces' systems hand back at the same clock time N working days later. Applies to
    # working-day counts only; calendar days and months keep the Civil Code's end of day.
    SAME_TIME_OF_DAY = "same_time_of_day"


# Rough length of one unit in office hours, only to compare a reduced time stated in another
# unit than the prescribed one (e.g. 1 working day cut to 4 working hours). 8 h per working day
# is what provincial systems store; a calendar day is 5/7 of a working day; a month 22 days.
_NOMINAL_HOURS: dict[TimeUnit, float] = {
    TimeUnit.WORKING_HOURS: 1.0,
    TimeUnit.SAME_DAY: 8.0,
    TimeUnit.WORKING_DAYS: 8.0,
    TimeUnit.CALENDAR_DAYS: 8.0 * 5 / 7,
    TimeUnit.MONTHS: 8.0 * 22,
}


def nominal_hours(amount: int, unit: TimeUnit) -> float:
    """Approximate office hours in `amount` `unit`s; for sanity comparisons only."""
    return amount * _NOMINAL_HOURS[unit]


def check_amount(amount: int, unit: TimeUnit, what: str = "amount") -> None:
    """Raise `ValueError` unless `amount` is a valid count of `unit` (>= 1; exactly 1 same day)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError(f"{what} must be an integer, got {amount!r}")
    if amount < 1:
        raise ValueError(f"{what} must be >= 1, got {amount}")
    if unit == TimeUnit.SAME_DAY and amount != 1:
        raise ValueError(f"{what} must be 1 for same_day (it means 'within the day'), got {amount}")


# Hours in a working day, to turn a fraction of a day ("0,25 ngày làm việc") into hours and a
# step's whole days into office time: provincial systems count 8 hours to a working day
# (docs/legal-sources.md); a setting (MOTCUA_WORKING_DAY_HOURS, `--working-day-hours`).
DEFAULT_DAY_HOURS = 8


class StepRole(StrEnum):
    """Who acts at a step of an internal procedure, as provincial tables name them."""

    CLERK = "clerk"  # the one-stop counter: receives, digitises, forwards, returns the result
    OFFICER = "officer"  # chuyên viên / công chức who examines the dossier and drafts the result
    LEADER = "leader"  # lãnh đạo (department, agency, People's Committee): assigns, approves, signs
    RECORDS_CLERK = "records_clerk"  # văn thư: numbers, seals and issues the result


# A step's allowance is office time: working days (whole; a fraction becomes hours at import)
# or working hours. Calendar days, months and "same day" are not step units (legal-rules.md).
STEP_UNITS: tuple[TimeUnit, ...] = (TimeUnit.WORKING_DAYS, TimeUnit.WORKING_HOURS)


@dataclass(frozen=True, kw_only=True)
class Allowance:
    """A step's own share of the time, in the catalog's duration form `{amount, unit}`."""

    amount: int
    unit: TimeUnit

    def __post_init__(self) -> None:
        if self.unit not in STEP_UNITS:
            raise ValueError(f"a step's allowance is in working_days or working_hours, got "
                             f"{self.unit}")
        check_amount(self.amount, self.unit, "allowance")

    def hours(self, day_hours: int) -> int:
        """The allowance in office hours, a working day counting `day_hours`."""
        return self.amount * (day_hours if self.unit == TimeUnit.WORKING_DAYS else 1)


@dataclass(frozen=True, kw_only=True)
class Step:
    """One step of a province's internal procedure (quy trình nội bộ), as published.

    `unit_code` is empty for a step of the unit that holds the dossier's share (the receiving
    unit); a step of another unit (liên thông) names that unit's code in the catalog. A step
    with no allowance says why in `untimed`, in the decision's words ("Không tính thời gian",
    "Giờ hành chính"): a missing time is never read as zero or guessed.
    """

    name: str  # the work, as the decision words it (shortened to its first clause)
    role: StepRole
    actor: str  # the actor as the decision prints it, e.g. "Văn thư UBND cấp xã"
    unit_code: str = ""
    allowance: Allowance | None = None
    untimed: str = ""
    produces: str = ""  # the paper the step produces, where the decision names one
    source: str  # the decision, annex and step number it was read from

    def __post_init__(self) -> None:
        if not self.name.strip() or not self.actor.strip():
            raise ValueError("a step needs its name and its actor as published")
        if not self.source.strip():
            raise ValueError(f"step {self.name!r}: source must not be empty")
        if self.unit_code and not is_unit_code(self.unit_code):
            raise ValueError(f"step {self.name!r}: unit_code {self.unit_code!r} is not a unit "
                             "code")
        if (self.allowance is None) == (not self.untimed.strip()):
            raise ValueError(f"step {self.name!r}: give either an allowance or, for a step "
                             "the decision leaves untimed, its words (untimed)")


@dataclass(frozen=True, kw_only=True)
class InternalProcedure:
    """A procedure's ordered steps, each with its own allowance.

    `version` names the text that approved this list (a decision and its date), so a new
    decision is a new version; `day_hours` is the working-day length the allowances were read
    with (fractions of a day became hours at it) and that turns whole days into office time.
    """

    version: str
    steps: tuple[Step, ...]
    day_hours: int = DEFAULT_DAY_HOURS

    def __post_init__(self) -> None:
        if not self.version.strip():
            raise ValueError("an internal procedure needs its version (the approving decision)")
        if not self.steps:
            raise ValueError("an internal procedure needs at least one step")
        if isinstance(self.day_hours, bool) or not 1 <= self.day_hours <= 24:
            raise ValueError("day_hours must be a whole number of hours from 1 to 24")

    def total_hours(self) -> int:
        """The steps' allowances added up, in office hours (untimed steps count nothing)."""
        return sum(s.allowance.hours(self.day_hours) for s in self.steps if s.allowance)

    def applied_hours(self, amount: int, unit: TimeUnit) -> int:
        """What the steps must add up to for a procedure whose applied time is `amount`
        `unit`s, in office hours; `ValueError` for a unit steps cannot divide.

        Working days count `day_hours` each; a same-day procedure is one working day (our
        reading: Hà Nội's published same-day steps add up to 8 hours, docs/legal-rules.md).
        Calendar days and months include days off, and no rule or published list splits such
        a period into office-time shares (our reading): refused.
        """
        if unit == TimeUnit.WORKING_HOURS:
            return amount
        if unit == TimeUnit.WORKING_DAYS:
            return amount * self.day_hours
        if unit == TimeUnit.SAME_DAY:
            return self.day_hours
        raise ValueError(f"steps cannot divide a time counted in {unit.value}: a calendar "
                         "period includes days off (see docs/legal-rules.md, Internal "
                         "procedures)")


@dataclass(frozen=True, kw_only=True)
class Fee:
    """The fee (phí, lệ phí) a procedure charges, as its legal text sets it: `amount` in VND
    (no minor unit; 0 for a procedure the text exempts) and `source`, the text and article
    that set it. Collected at the counter (`RecordFee`) or online; a fee that varies (per
    page, per copy) is given as its base amount with the rule in `source`."""

    amount: int
    source: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"fee_amount must be a whole number of VND >= 0, got "
                             f"{self.amount!r}")
        if not self.source.strip():
            raise ValueError("a fee needs fee_source, the legal text that sets it")


@dataclass(frozen=True, kw_only=True)
class Procedure:
    """An administrative procedure with its prescribed time and the time the province applies.

    The applied time (`reduced_amount` / `reduced_unit`, what every due time is counted from)
    is the province's published reduced time where `reduced_source` names the decision that
    published it for this procedure (e.g. Lào Cai QĐ 3009/QĐ-UBND of 23 Aug 2021), else the
    prescribed time itself. No estimate: a computed cut never reaches a due time or a form.
    """

    code: str
    name: str  # Vietnamese, as published
    level: Level
    prescribed_amount: int
    prescribed_unit: TimeUnit
    reduced_amount: int
    reduced_unit: TimeUnit
    source: str  # the legal text (article, clause) of the prescribed time, or "UNVERIFIED ..."
    # The provincial decision publishing the reduced time; empty: none known (applied = prescribed).
    reduced_source: str = ""
    field: str = ""  # lĩnh vực, as in the national catalog (Biểu 06 rows are by field)
    due_soon_working_days: int = 1
    counting_rule: CountingRule = CountingRule.CIVIL_CODE
    # A code a decree retired or merged: still resolvable for the dossiers opened under it, but
    # no new receipt; `replaced_by` names the code that replaces it.
    replaced_by: str | None = None
    retired_source: str = ""
    # The longer maximum "khi cần xác minh" (e.g. Decree 120/2025: marriage with a foreign
    # element 05 working days, up to 10): applied once an officer records that verification is
    # needed (issue 11 point 4). Its text is in `source`.
    verification_amount: int | None = None
    verification_unit: TimeUnit | None = None
    # The province's internal procedure, or None: the dossier keeps the single-assignee
    # lifecycle. Its steps add up to the applied time (checked below).
    steps: InternalProcedure | None = None
    # The fee (issue 22 item 4), or None: none recorded in the catalog (not "free").
    fee: Fee | None = None
    # Digitisation before assignment (issue 26): every paper listed on the dossier must be on
    # file as a scanned component before a leader assigns it. Decree 118/2025 art. 17(1)(c)
    # has the counter scan what it receives, per Circular 01/2023/TT-VPCP art. 8; making the
    # assignment wait for it is a province's choice per procedure (our reading), so it is a
    # flag, off by default. Checked in `motcua.services.digitisation`.
    digitise_before_assign: bool = False

    def __post_init__(self) -> None:
        if not (NATIONAL_CODE.match(self.code) or PROVINCIAL_CODE.match(self.code)
                or LOCAL_CODE.match(self.code)):
            raise ValueError(f"code {self.code!r} is neither a national code like 1.001193 "
                             "(or a province's 3.000527.H61) nor a local code like "
                             "L.chung-thuc-di-chuc")
        if not self.name.strip():
            raise ValueError("name must not be empty")
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {self.level!r}")
        check_amount(self.prescribed_amount, self.prescribed_unit, "prescribed_amount")
        check_amount(self.reduced_amount, self.reduced_unit, "reduced_amount")
        published = bool(self.reduced_source.strip())
        if not published and (self.reduced_amount, self.reduced_unit) != (
                self.prescribed_amount, self.prescribed_unit):
            raise ValueError("a reduced time needs reduced_source, the decision that published "
                             "it; without one the prescribed time applies (no estimates)")
        if (self.verification_amount is None) != (self.verification_unit is None):
            raise ValueError("verification_amount and verification_unit go together")
        if self.verification_amount is not None and self.verification_unit is not None:
            check_amount(self.verification_amount, self.verification_unit, "verification_amount")
            if (nominal_hours(self.verification_amount, self.verification_unit)
                    <= nominal_hours(self.prescribed_amount, self.prescribed_unit)):
                raise ValueError("the verification maximum must be longer than the prescribed "
                                 "time")
        if self.replaced_by is not None and not self.retired_source.strip():
            raise ValueError("a retired code (replaced_by) needs retired_source, the text "
                             "that retired it")
        if self.reduced_unit == self.prescribed_unit:
            if self.reduced_amount > self.prescribed_amount:
                raise ValueError("reduced_amount must be <= prescribed_amount")
        elif (nominal_hours(self.reduced_amount, self.reduced_unit)
              > nominal_hours(self.prescribed_amount, self.prescribed_unit)):
            raise ValueError("reduced time must not be longer than the prescribed time")
        if isinstance(self.due_soon_working_days, bool) or self.due_soon_working_days < 0:
            raise ValueError("due_soon_working_days must be an integer >= 0")
        if not self.source.strip():
            raise ValueError("source must not be empty (write UNVERIFIED if unknown)")
        if not isinstance(self.digitise_before_assign, bool):
            raise ValueError("digitise_before_assign must be true or false")
        if self.steps is not None:
            self._check_steps(self.steps)

    def _check_steps(self, steps: InternalProcedure) -> None:
        # The applied time, what the province publishes the steps against.
        wanted = steps.applied_hours(self.reduced_amount, self.reduced_unit)
        total = steps.total_hours()
        if total != wanted:
            raise ValueError(
                f"the steps add up to {total} working hours but the applied time is "
                f"{self.reduced_amount} {self.reduced_unit.value} = {wanted} working hours "
                f"(at {steps.day_hours} h a working day)")

    @property
    def is_retired(self) -> bool:
        """Retired or merged by a decree: no new receipt under this code."""
        return self.replaced_by is not None

    @property
    def time_source(self) -> str:
        """The text the applied time follows: the reduction decision, else the prescribed
        time's own source."""
        return self.reduced_source or self.source


@dataclass(frozen=True, kw_only=True)
class Unit:
    """A receiving unit (one-stop shop / public administration service centre)."""

    code: str  # electronic agency id printed in dossier codes, e.g. 000.00.15.H35
    name: str
    level: Level
    province: str
    # Units change with administrative reorganisations (two-tier government since 1 Jul 2025).
    valid_from: date | None = None
    valid_to: date | None = None

    def __post_init__(self) -> None:
        if not is_unit_code(self.code):
            raise ValueError(f"code {self.code!r} is neither like 000.00.15.H35 nor a "
                             "Decision 20/2020/QĐ-TTg id like H39.21.05")
        if not self.name.strip() or not self.province.strip():
            raise ValueError("name and province must not be empty")
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {self.level!r}")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to must not be before valid_from")

    def is_active_on(self, day: date) -> bool:
        """Whether the unit exists (accepts dossiers) on `day`."""
        return ((self.valid_from is None or self.valid_from <= day)
                and (self.valid_to is None or day <= self.valid_to))


class UnknownProcedure(KeyError):
    """No procedure with this code in the catalog."""

    def __init__(self, code: str, version: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = f"unknown procedure code {code!r} (catalog version {version})"

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return self.message


class RetiredProcedure(ValueError):
    """A code retired or merged by a decree: it takes no new receipt."""

    def __init__(self, proc: Procedure) -> None:
        super().__init__(f"procedure code {proc.code!r} was retired ({proc.retired_source}); "
                         f"receive under {proc.replaced_by!r}")
        self.code = proc.code
        self.replaced_by = proc.replaced_by


class NoVerificationMaximum(ValueError):
    """The procedure has no longer maximum for verification."""


class UnknownUnit(KeyError):
    """No unit with this code in the catalog."""

    def __init__(self, code: str, version: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = f"unknown unit code {code!r} (catalog version {version})"

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Catalog:
    """Procedures and units by code, with the version recorded in every deadline event."""

    version: str
    procedures: Mapping[str, Procedure]
    units: Mapping[str, Unit]

    def __post_init__(self) -> None:
        for key, proc in self.procedures.items():
            if key != proc.code:
                raise ValueError(f"procedure keyed {key!r} has code {proc.code!r}")
            if proc.replaced_by is not None and proc.replaced_by not in self.procedures:
                raise ValueError(f"procedure {key!r} is replaced by {proc.replaced_by!r}, "
                                 "which the catalog does not list")
            for step in proc.steps.steps if proc.steps else ():
                if step.unit_code and step.unit_code not in self.units:
                    raise ValueError(f"procedure {key!r}: step {step.name!r} names unit "
                                     f"{step.unit_code!r}, which the catalog does not list")
        for key, unit in self.units.items():
            if key != unit.code:
                raise ValueError(f"unit keyed {key!r} has code {unit.code!r}")

    def procedure(self, code: str) -> Procedure:
        """The procedure with this code; `UnknownProcedure` if there is none."""
        try:
            return self.procedures[code]
        except KeyError:
            raise UnknownProcedure(code, self.version) from None

    def procedure_for_receipt(self, code: str) -> Procedure:
        """The procedure a NEW dossier may be received under: `UnknownProcedure`, or
        `RetiredProcedure` for a retired code (which stays resolvable through `procedure`)."""
        proc = self.procedure(code)
        if proc.is_retired:
            raise RetiredProcedure(proc)
        return proc

    def unit(self, code: str) -> Unit:
        """The unit with this code; `UnknownUnit` if there is none."""
        try:
            return self.units[code]
        except KeyError:
            raise UnknownUnit(code, self.version) from None
