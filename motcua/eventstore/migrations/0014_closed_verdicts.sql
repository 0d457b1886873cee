-- Report definition 2026-12.1 (issue 23 item 10; docs/legal-rules.md): a dossier whose
-- processing ended without a result (refused after acceptance, withdrawn, stopped) no longer
-- counts as "Trước hạn" (early service) in Biểu 06. Ended by its due date it counts
-- "closed_on_time" (shown under "Đúng hạn"), after it "closed_late" (under "Quá hạn"), and
-- both are counted apart so the board and the exports show them as such.
ALTER TABLE report_facts DROP CONSTRAINT report_facts_timeliness_check;
ALTER TABLE report_facts ADD CONSTRAINT report_facts_timeliness_check
    CHECK (timeliness IN ('early', 'on_time', 'late', 'closed_on_time', 'closed_late'));
ALTER TABLE report_counts
    ADD COLUMN res_closed_on_time integer NOT NULL DEFAULT 0,
    ADD COLUMN res_closed_late    integer NOT NULL DEFAULT 0;

-- Facts already projected: the dossier's state in the read model says how it ended.
CREATE TEMPORARY TABLE closed_moves ON COMMIT DROP AS
SELECT f.code, f.unit_code, f.procedure_code, f.resolved_day AS day, f.timeliness AS old,
       CASE WHEN f.timeliness = 'late' THEN 'closed_late' ELSE 'closed_on_time' END AS new
FROM report_facts f JOIN dossiers d ON d.code = f.code
WHERE f.resolved_day IS NOT NULL AND f.timeliness IN ('early', 'on_time', 'late')
  AND d.state IN ('refused', 'withdrawn', 'stopped');

-- Move each such dossier's +1 from its old verdict to its new one, in every grain and scope
-- the projector counts it in (`motcua.eventstore.reporting._add`).
UPDATE report_counts c SET
    res_early = c.res_early - m.early, res_on_time = c.res_on_time - m.on_time,
    res_late = c.res_late - m.late, res_closed_on_time = c.res_closed_on_time + m.closed_on_time,
    res_closed_late = c.res_closed_late + m.closed_late
FROM (
    SELECT g.grain, s.scope,
           CASE g.grain WHEN 0 THEN x.day WHEN 1 THEN date_trunc('month', x.day)::date
                ELSE date_trunc('year', x.day)::date END AS bucket,
           CASE WHEN s.scope IN (0, 1) THEN x.unit_code ELSE '' END AS unit_code,
           CASE WHEN s.scope IN (0, 3) THEN x.procedure_code ELSE '' END AS procedure_code,
           sum((x.old = 'early')::int) AS early, sum((x.old = 'on_time')::int) AS on_time,
           sum((x.old = 'late')::int) AS late,
           sum((x.new = 'closed_on_time')::int) AS closed_on_time,
           sum((x.new = 'closed_late')::int) AS closed_late
    FROM closed_moves x
    CROSS JOIN (VALUES (0), (1), (2)) AS g(grain)
    CROSS JOIN (VALUES (0), (1), (2), (3)) AS s(scope)
    GROUP BY 1, 2, 3, 4, 5
) m
WHERE c.grain = m.grain AND c.scope = m.scope AND c.bucket = m.bucket
  AND c.unit_code = m.unit_code AND c.procedure_code = m.procedure_code;

UPDATE report_facts f SET timeliness = m.new FROM closed_moves m WHERE f.code = m.code;
