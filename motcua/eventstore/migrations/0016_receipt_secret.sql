-- Issue 24 point 7: the citizen's lookup secret is issued once, at intake (answered in the
-- receipt's 201), and viewing a receipt never changes it. Reissuing it is an explicit act with
-- a reason, recorded here; append-only like pii_reads.
CREATE TABLE lookup_reissues (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    dossier_code  text        NOT NULL,
    issued_by     text        NOT NULL,
    reason        text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    correlation_id text
);
CREATE INDEX lookup_reissues_dossier ON lookup_reissues (dossier_code, at);
CREATE TRIGGER lookup_reissues_append_only BEFORE UPDATE OR DELETE ON lookup_reissues
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER lookup_reissues_no_truncate BEFORE TRUNCATE ON lookup_reissues
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The console's intake shows the new secret on the receipt it prints right after intake: the
-- secret cannot ride in the redirect, so it waits here, once, for that session and dossier.
-- The box is AES-GCM under a key derived from the session's cookie secret (of which the
-- database holds only a hash), so the row is unreadable without the browser's cookie; it is
-- deleted when read, when it expires, and with its session.
CREATE TABLE receipt_slots (
    session_hash  text        NOT NULL REFERENCES console_sessions (id_hash) ON DELETE CASCADE,
    dossier_code  text        NOT NULL,
    box           bytea       NOT NULL,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (session_hash, dossier_code)
);
CREATE INDEX receipt_slots_expiry ON receipt_slots (expires_at);

-- Issue 25: the receipt notice's lookup link carries the secret, which exists in clear only at
-- intake. It waits here sealed (AES-GCM under MOTCUA_PAYLOAD_KEYS, the dossier code as
-- associated data) until the notice router composes the notice (itself stored sealed), which
-- deletes the row.
CREATE TABLE notice_secrets (
    dossier_code  text        PRIMARY KEY,
    key_id        text        NOT NULL,
    box           bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
