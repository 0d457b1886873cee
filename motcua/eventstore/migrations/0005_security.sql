-- Security (issue 12): the citizen's lookup secret, the audit of personal-data reads, the
-- dossier register (every receipt number, received or void), token expiry and last use.

-- The lookup secret printed on the receipt, kept only as its sha256 (hex). Not an event: a
-- secret must not sit in the append-only store or in Temporal history, and a reprint replaces
-- it (the last printed receipt is the valid one).
CREATE TABLE dossier_lookup (
    dossier_code  text PRIMARY KEY,
    secret_hash   text        NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
    issued_at     timestamptz NOT NULL DEFAULT now(),
    issued_by     text        NOT NULL
);

-- Every read of personal data (a dossier's detail, a document, a list showing names): who,
-- when, which dossier, what. Append-only: updates, deletes and truncation are refused, so an
-- auditor can trust it (`SELECT ... FROM pii_reads WHERE dossier_code = ...`).
CREATE TABLE pii_reads (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    principal       text        NOT NULL,
    roles           text[]      NOT NULL,
    dossier_code    text        NOT NULL,
    what            text        NOT NULL,
    correlation_id  text
);
CREATE INDEX pii_reads_dossier ON pii_reads (dossier_code, at);
CREATE INDEX pii_reads_principal ON pii_reads (principal, at);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER pii_reads_append_only BEFORE UPDATE OR DELETE ON pii_reads
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER pii_reads_no_truncate BEFORE TRUNCATE ON pii_reads
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The dossier register (Sổ theo dõi hồ sơ): one line per daily number a unit allocated. A
-- number is allocated in the same transaction as the Idempotency-Key claim, so a duplicate
-- request never spends one; a receipt the engine then refuses keeps its line, marked void
-- with the reason (a struck-through line, never a silent gap).
CREATE TABLE dossier_register (
    unit_code     text        NOT NULL,
    day           date        NOT NULL,
    seq           integer     NOT NULL CHECK (seq > 0),
    dossier_code  text        NOT NULL UNIQUE,
    status        text        NOT NULL DEFAULT 'allocated'
                              CHECK (status IN ('allocated', 'received', 'void')),
    void_reason   text,
    allocated_by  text        NOT NULL,
    allocated_at  timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_code, day, seq),
    CHECK ((status = 'void') = (void_reason IS NOT NULL))
);

-- Tokens: an optional expiry, and when each was last used (updated at most once a minute).
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN last_used_at timestamptz;
