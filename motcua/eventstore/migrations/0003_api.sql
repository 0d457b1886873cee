-- HTTP API: bearer tokens and idempotency keys. Neither is derived from events (not a read
-- model): they are the API's own state.

-- Bearer tokens, stored only as the sha256 of the secret (hex). A token may hold several
-- roles; unit_code NULL means every unit. Revoking keeps the row (audit), sets revoked_at.
CREATE TABLE api_tokens (
    name        text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    token_hash  text        NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    roles       text[]      NOT NULL CHECK (cardinality(roles) > 0
                            AND roles <@ ARRAY['clerk', 'officer', 'leader', 'ops']),
    unit_code   text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- Idempotency-Key -> the request it was first used for and its response. Keys are scoped to
-- the token name. A row with status_code NULL is in flight (or its request failed
-- transiently: a retry with the same key redoes it under the same dossier code / update id).
CREATE TABLE api_idempotency (
    principal     text        NOT NULL,
    key           text        NOT NULL,
    operation     text        NOT NULL,
    request_hash  text        NOT NULL,
    dossier_code  text        NOT NULL,
    status_code   integer,
    response      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (principal, key)
);
CREATE INDEX api_idempotency_created ON api_idempotency (created_at);
