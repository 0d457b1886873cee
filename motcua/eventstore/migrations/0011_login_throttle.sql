-- Issue 24, point 3: no hard lock that a stranger controls. Failed logins are counted per
-- name as typed (existing or not, so the throttle tells nothing about who exists) and per
-- client (its address; an IPv6 client by its /64): a client that failed too often waits,
-- doubling, before its next try at that name, while the user's own client is not slowed.
-- A success from that client, a password reset, or 24 h without failure forgets the row.
CREATE TABLE login_throttle (
    username        text        NOT NULL,
    client          text        NOT NULL,
    failures        integer     NOT NULL DEFAULT 0,
    last_failure_at timestamptz NOT NULL DEFAULT now(),
    next_try_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (username, client)
);
CREATE INDEX login_throttle_last_failure ON login_throttle (last_failure_at);

-- The per-account counter and hard lock are gone (their columns with them).
ALTER TABLE console_users DROP COLUMN failed_attempts, DROP COLUMN locked_until;

ALTER TABLE console_logins DROP CONSTRAINT IF EXISTS console_logins_outcome_check;
ALTER TABLE console_logins ADD CONSTRAINT console_logins_outcome_check CHECK (outcome IN (
    'success', 'bad_password', 'unknown_user', 'disabled', 'locked', 'throttled', 'logout'));
