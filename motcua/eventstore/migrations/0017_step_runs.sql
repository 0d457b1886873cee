-- Issue 22 items 5 and 6: who made it late. Two read models the projector keeps (and
-- `projector.rebuild` empties and refills like the others).

-- One row per run of a step of a dossier's internal procedure (`domain.walk.StepRecord`; a
-- step sent back to runs again, as a new run). `holder` is the person who held the run: the
-- one it was handed to when named, else the one who ended it (as the control slip names a
-- late step's person, `motcua.documents.control.late_steps`); NULL while open and unnamed
-- (the step's role in `unit_code` holds it). `timeliness` is the run's verdict by instant
-- against its own due instant (`domain.walk.verdict`): NULL while open or for an untimed step.
CREATE TABLE step_runs (
    code           text        NOT NULL,
    run            integer     NOT NULL,   -- 0-based position in the dossier's trail
    step           integer     NOT NULL,   -- 0-based index into the plan's steps
    name           text        NOT NULL,
    role           text        NOT NULL,
    unit_code      text        NOT NULL,   -- the unit answering for the step
    receiving_unit text        NOT NULL,   -- the unit that received the dossier
    procedure_code text        NOT NULL,
    holder         text,
    giver          text        NOT NULL DEFAULT '',
    started_at     timestamptz NOT NULL,
    due_at         timestamptz,
    ended_at       timestamptz,
    outcome        text CHECK (outcome IN ('handed_over', 'sent_back')),
    timeliness     text CHECK (timeliness IN ('early', 'on_time', 'late')),
    PRIMARY KEY (code, run)
);
-- The reports read runs ended in a period, and runs open at its end (by due instant).
CREATE INDEX step_runs_ended ON step_runs (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX step_runs_open ON step_runs (due_at) WHERE ended_at IS NULL;
-- "My dossiers": the open run of each dossier, by unit and role (or person).
CREATE INDEX step_runs_open_unit ON step_runs (unit_code, role, due_at) WHERE ended_at IS NULL;

-- Biểu 06 / Decision 766 per unit counts the legs each unit held (docs/legal-rules.md,
-- "Legs of a transferred dossier"): one row per leg a unit other than the receiving one held
-- (`leg` 1 = the first transfer), with the office dates the counts are made of, like
-- `report_facts` for the dossier itself. Legs count only in the per-unit scopes 4 and 5 below,
-- never in the province or procedure totals, where a dossier counts once.
CREATE TABLE report_legs (
    code           text    NOT NULL,
    leg            integer NOT NULL,
    unit_code      text    NOT NULL,
    procedure_code text    NOT NULL,
    channel        text    NOT NULL CHECK (channel IN ('counter', 'online', 'postal')),
    received_day   date    NOT NULL,
    resolved_day   date,
    timeliness     text CHECK (timeliness IN ('early', 'on_time', 'late', 'closed_on_time',
                                              'closed_late')),
    overdue_from   date,
    CHECK ((resolved_day IS NULL) = (timeliness IS NULL)),
    PRIMARY KEY (code, leg)
);

--   scope 4 = legs by (unit, procedure), 5 = legs by (unit, all procedures). A report per
--   unit reads scopes 0 + 4 or 1 + 5 (`motcua.reports.sla`).
ALTER TABLE report_counts DROP CONSTRAINT report_counts_scope_check;
ALTER TABLE report_counts ADD CONSTRAINT report_counts_scope_check
    CHECK (scope IN (0, 1, 2, 3, 4, 5));
