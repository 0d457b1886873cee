-- What-if and lateness forecast (issue 15): the clock inputs of each dossier as plain columns
-- of the read model, so that a recomputation over a million dossiers streams them without
-- decoding every snapshot in Python. They are GENERATED from `snapshot`, which the projector
-- writes with every row: a projection, a `motcua projections rebuild` and a bulk load (COPY)
-- all fill them the same way, and nothing else has to change to keep them right.
--   pause_starts/pause_ends : the finished supplement pauses, in order (`Dossier.pauses`);
--   paused_at               : start of the pause in progress (awaiting a supplement), or NULL;
--   extended_at/_due_at     : when the one extension was given, and the new appointment;
--   late_by_supplement      : Decision 766's second supplement request during processing;
--   legal_due_at            : the due time timeliness is judged against (an apology's new
--                             appointment never moves it; issue 11 point 5);
--   verification_required   : an officer recorded that verification is needed, so the
--                             procedure's longer maximum applies (issue 11 point 4).

-- IMMUTABLE although text -> timestamptz is only STABLE in general (text without an offset is
-- read in the session's TimeZone): the snapshot's instants are always written with their UTC
-- offset (`domain.codec` writes aware datetimes with isoformat), so the value never depends on
-- the session, and a generated column may use it.
CREATE FUNCTION motcua_instant(value text) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN value::timestamptz;

CREATE FUNCTION motcua_pause_bounds(pauses jsonb, bound text) RETURNS timestamptz[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN ARRAY(SELECT motcua_instant(p.value ->> bound)
                 FROM jsonb_array_elements(coalesce(pauses, '[]'::jsonb)) WITH ORDINALITY
                      AS p(value, n)
                 ORDER BY p.n);

ALTER TABLE dossiers
    ADD COLUMN pause_starts timestamptz[]
        GENERATED ALWAYS AS (motcua_pause_bounds(snapshot -> 'pauses', 'start')) STORED,
    ADD COLUMN pause_ends timestamptz[]
        GENERATED ALWAYS AS (motcua_pause_bounds(snapshot -> 'pauses', 'end')) STORED,
    ADD COLUMN paused_at timestamptz
        GENERATED ALWAYS AS (motcua_instant(snapshot ->> 'paused_at')) STORED,
    ADD COLUMN extended_at timestamptz
        GENERATED ALWAYS AS (motcua_instant(snapshot ->> 'extended_at')) STORED,
    ADD COLUMN extended_due_at timestamptz
        GENERATED ALWAYS AS (motcua_instant(snapshot ->> 'extended_due_at')) STORED,
    ADD COLUMN late_by_supplement boolean
        GENERATED ALWAYS AS (coalesce((snapshot ->> 'late_by_supplement')::boolean, false))
        STORED,
    ADD COLUMN legal_due_at timestamptz
        GENERATED ALWAYS AS (motcua_instant(snapshot ->> 'legal_due_at')) STORED,
    ADD COLUMN verification_required boolean
        GENERATED ALWAYS AS (coalesce((snapshot ->> 'verification_required')::boolean, false))
        STORED;

-- What-if selects the dossiers received in a period.
CREATE INDEX dossiers_received ON dossiers (received_at);
