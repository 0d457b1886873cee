-- The console's people: users with a password (argon2id hash), roles and a unit; their
-- browser sessions; and every login attempt. Like api_tokens, this is the API's own state,
-- not a read model.

-- `kiosk` is a credential of a unit's counter screen: it may record ratings and nothing else.
ALTER TABLE api_tokens DROP CONSTRAINT IF EXISTS api_tokens_roles_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_roles_check CHECK (cardinality(roles) > 0
    AND roles <@ ARRAY['clerk', 'officer', 'leader', 'ops', 'kiosk']);

-- A disabled user keeps the row (the actor names in events stay meaningful). After
-- repeated failures `locked_until` is set; a success or a password reset clears the count.
CREATE TABLE console_users (
    username            text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    full_name           text        NOT NULL DEFAULT '',
    password_hash       text        NOT NULL,
    roles               text[]      NOT NULL CHECK (cardinality(roles) > 0
                        AND roles <@ ARRAY['clerk', 'officer', 'leader', 'ops', 'kiosk']),
    unit_code           text,
    failed_attempts     integer     NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    disabled_at         timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_users_unit ON console_users (unit_code);

-- A session cookie holds a random secret; only its sha256 is stored. Each session has its
-- own CSRF token, sent back in every form.
CREATE TABLE console_sessions (
    id_hash      text PRIMARY KEY CHECK (id_hash ~ '^[0-9a-f]{64}$'),
    username     text        NOT NULL REFERENCES console_users (username) ON DELETE CASCADE,
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (username);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- Every login attempt and logout, successful or not (the username as typed).
CREATE TABLE console_logins (
    id          bigserial PRIMARY KEY,
    username    text        NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('success', 'bad_password',
                'unknown_user', 'disabled', 'locked', 'logout')),
    remote_addr text,
    user_agent  text,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX console_logins_user_at ON console_logins (username, at);
