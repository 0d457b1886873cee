-- The append-only event store. One row per domain event.
--   stream/position : the dossier code and the event's 1-based position in it; UNIQUE is the
--                     optimistic concurrency check and makes gaps and duplicates visible.
--   event_id        : chosen by the workflow (deterministic), so a retried append is a no-op.
--   global_position : identity, for ordering within a transaction; readers order by
--                     (tx_id, global_position) and only read transactions older than every
--                     transaction still running, so a late-committing row is never skipped.
CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream          text        NOT NULL,
    position        integer     NOT NULL CHECK (position > 0),
    event_id        uuid        NOT NULL UNIQUE,
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL,
    payload         jsonb       NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    recorded_at     timestamptz NOT NULL,
    stored_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT events_stream_position UNIQUE (stream, position)
);

CREATE INDEX events_tx_order ON events (tx_id, global_position);
CREATE INDEX events_type_recorded ON events (event_type, recorded_at);

CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event store is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

-- Dossier codes: a daily sequence per unit, handed out by the API before the workflow starts.
CREATE TABLE dossier_sequences (
    unit_code  text    NOT NULL,
    day        date    NOT NULL,
    last_value integer NOT NULL,
    PRIMARY KEY (unit_code, day)
);
