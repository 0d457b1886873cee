-- Notification outbox (issue 13): the dispatcher (`motcua dispatcher`, motcua/dispatcher.py)
-- reads deadline alerts from `events` in commit order, with its own checkpoint (the row
-- 'notifications' of projection_checkpoints), and delivers each to the webhook at least once.
-- Delivery records cannot go into the dossier's stream (its workflow chooses the positions), so
-- they live here, one row per alert, plus one row per attempt.
--   status          : pending (to be tried at next_attempt_at), delivered, failed (permanently:
--                     a 4xx, or every attempt used), disabled (no webhook configured);
--   attempts        : attempts started; a claim increments it *before* the POST, so an attempt
--                     cut short by a crash is counted too;
--   next_attempt_at : when a pending row is due; a claim pushes it one lease ahead, so the row
--                     of a dispatcher that died mid-POST is tried again (at least once);
--   body            : the JSON body sent (without `type`), fixed when the alert was read.
CREATE TABLE notification_deliveries (
    alert_event_id  uuid        PRIMARY KEY,
    stream          text        NOT NULL,
    alert_position  integer     NOT NULL,
    global_position bigint      NOT NULL,
    kind            text        NOT NULL,
    unit_code       text        NOT NULL,
    body            jsonb       NOT NULL,
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed', 'disabled')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    raised_at       timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);

CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX notification_deliveries_stream ON notification_deliveries (stream);
CREATE INDEX notification_deliveries_unfinished ON notification_deliveries (raised_at)
    WHERE finished_at IS NULL;

-- Every attempt and its outcome: delivered, retried (will be tried again) or failed (final).
CREATE TABLE notification_attempts (
    alert_event_id uuid        NOT NULL REFERENCES notification_deliveries ON DELETE CASCADE,
    attempt        integer     NOT NULL CHECK (attempt > 0),
    outcome        text        NOT NULL CHECK (outcome IN ('delivered', 'retried', 'failed',
                                                           'disabled')),
    status_code    integer,
    error          text,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (alert_event_id, attempt)
);

INSERT INTO projection_checkpoints (name) VALUES ('notifications') ON CONFLICT DO NOTHING;
