-- SLA report pre-aggregation (Biểu 06, Decision 766), kept by the projector in the same
-- transaction as the read models (motcua/eventstore/reporting.py) and emptied with them on a
-- rebuild. Nothing here is a source of truth. All dates are office dates (Asia/Ho_Chi_Minh).

-- One row per dossier: the few dates the reports count on.
--   resolved_day : processing ended (result ready, or refused, withdrawn, stopped); with it,
--                  the Biểu 06 verdict `timeliness` (early | on_time | late).
--   overdue_from : the first day D such that, still in progress at the end of D, the dossier
--                  counts as overdue (its due date, or the day of a second supplement request
--                  during processing); NULL = never (no due time, or paused within time).
--                  Frozen when the dossier is resolved.
--   late_flag_day: the day a second supplement request during processing made it late.
CREATE TABLE report_facts (
    code           text PRIMARY KEY,
    unit_code      text NOT NULL,
    procedure_code text NOT NULL,
    channel        text NOT NULL CHECK (channel IN ('counter', 'online', 'postal')),
    received_day   date NOT NULL,
    resolved_day   date,
    timeliness     text CHECK (timeliness IN ('early', 'on_time', 'late')),
    overdue_from   date,
    late_flag_day  date,
    rated_day      date,
    satisfaction   text CHECK (satisfaction IN ('very_satisfied', 'satisfied', 'not_satisfied')),
    CHECK ((resolved_day IS NULL) = (timeliness IS NULL)),
    CHECK ((rated_day IS NULL) = (satisfaction IS NULL))
);

-- Additive counts of the facts, per bucket and key:
--   grain : 0 = day, 1 = month, 2 = year; `bucket` is the first day of the day/month/year.
--           Every fact is counted at each grain, so a period is read as whole years + whole
--           months + edge days, and a running total up to a day as a few rows per key.
--   scope : 0 = (unit, procedure), 1 = (unit, all procedures), 2 = (all units, all
--           procedures), 3 = (all units, procedure); "all" is ''. A report reads the coarsest
--           scope its filters and grouping allow (a province total: one row per bucket).
-- Measures, on the day they happen:
--   recv_<channel>, res_<timeliness>, sat_<rating> : received, resolved, rated that day;
--   overdue_delta : +1 on overdue_from, -1 on resolved_day when it was overdue before, so
--                   its running total up to D = in progress and overdue at the end of D;
--   res_overdue   : resolved that day after having been overdue (the -1s above, alone).
-- One partition per grain keeps the month and year rows packed in few pages.
CREATE TABLE report_counts (
    grain              smallint NOT NULL,
    scope              smallint NOT NULL CHECK (scope IN (0, 1, 2, 3)),
    bucket             date     NOT NULL,
    unit_code          text     NOT NULL,
    procedure_code     text     NOT NULL,
    recv_counter       integer  NOT NULL DEFAULT 0,
    recv_online        integer  NOT NULL DEFAULT 0,
    recv_postal        integer  NOT NULL DEFAULT 0,
    res_early          integer  NOT NULL DEFAULT 0,
    res_on_time        integer  NOT NULL DEFAULT 0,
    res_late           integer  NOT NULL DEFAULT 0,
    res_overdue        integer  NOT NULL DEFAULT 0,
    overdue_delta      integer  NOT NULL DEFAULT 0,
    sat_very_satisfied integer  NOT NULL DEFAULT 0,
    sat_satisfied      integer  NOT NULL DEFAULT 0,
    sat_not_satisfied  integer  NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, scope, bucket, unit_code, procedure_code)
) PARTITION BY LIST (grain);
CREATE TABLE report_counts_day PARTITION OF report_counts FOR VALUES IN (0);
CREATE TABLE report_counts_month PARTITION OF report_counts FOR VALUES IN (1);
CREATE TABLE report_counts_year PARTITION OF report_counts FOR VALUES IN (2);
-- One unit's (or one procedure's) rows over a range of buckets.
CREATE INDEX report_counts_unit ON report_counts (unit_code, scope, grain, bucket);
CREATE INDEX report_counts_procedure ON report_counts (procedure_code, scope, grain, bucket);
