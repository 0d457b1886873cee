-- The delivery layer (issue 25): the webhook outbox of 0009 grows into one table of deliveries
-- to several destinations (the operator's webhook, the national portal, SMS, Zalo, e-mail).
--   event_id + destination + part : one delivery per source event and destination ("part" when
--                     one event makes several calls to one destination: the portal's dossier
--                     upsert and its progress update); a replayed ingest inserts nothing twice;
--   id              : the ingest order. Ingest reads events in commit order, and the events of
--                     one dossier commit in stream order, so within (stream, destination) a
--                     smaller id is an earlier change: the dispatcher claims a row only when no
--                     earlier row of its (stream, destination) is still pending (order per
--                     dossier and destination; a row finally failed no longer holds the rest);
--   body            : what is sent, fixed at ingest (a notice's text sealed with the payload
--                     keys: `{"sealed": ...}`);
--   the rest as in 0009 (status, attempts counted at claim, next_attempt_at pushed one lease
--   ahead by a claim so a dead dispatcher's row comes back).
CREATE TABLE deliveries (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid        NOT NULL,
    destination     text        NOT NULL DEFAULT 'webhook'
                    CHECK (destination IN ('webhook', 'portal', 'sms', 'zalo', 'email')),
    part            text        NOT NULL DEFAULT '',
    stream          text        NOT NULL,
    position        integer     NOT NULL,
    global_position bigint      NOT NULL,
    kind            text        NOT NULL,
    unit_code       text        NOT NULL DEFAULT '',
    body            jsonb       NOT NULL,
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed', 'disabled')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    raised_at       timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (event_id, destination, part)
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_order ON deliveries (stream, destination, id) WHERE status = 'pending';
CREATE INDEX deliveries_stream ON deliveries (stream);
CREATE INDEX deliveries_unfinished ON deliveries (destination, raised_at)
    WHERE finished_at IS NULL;

CREATE TABLE delivery_attempts (
    delivery_id bigint      NOT NULL REFERENCES deliveries ON DELETE CASCADE,
    attempt     integer     NOT NULL CHECK (attempt > 0),
    outcome     text        NOT NULL CHECK (outcome IN ('delivered', 'retried', 'failed',
                                                        'disabled')),
    status_code integer,
    error       text,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (delivery_id, attempt)
);

INSERT INTO deliveries (event_id, destination, stream, position, global_position, kind,
                        unit_code, body, status, attempts, next_attempt_at, last_status,
                        last_error, raised_at, created_at, finished_at)
SELECT alert_event_id, 'webhook', stream, alert_position, global_position, kind, unit_code,
       body, status, attempts, next_attempt_at, last_status, last_error, raised_at, created_at,
       finished_at
FROM notification_deliveries ORDER BY global_position;

INSERT INTO delivery_attempts (delivery_id, attempt, outcome, status_code, error, started_at,
                               finished_at)
SELECT d.id, a.attempt, a.outcome, a.status_code, a.error, a.started_at, a.finished_at
FROM notification_attempts a JOIN deliveries d
  ON d.event_id = a.alert_event_id AND d.destination = 'webhook';

DROP TABLE notification_attempts;
DROP TABLE notification_deliveries;

-- The webhook's rows under their former names, for the queries and tools written against 0009
-- (simple views: PostgreSQL can insert through the first one).
CREATE VIEW notification_deliveries AS
SELECT event_id AS alert_event_id, stream, position AS alert_position, global_position, kind,
       unit_code, body, status, attempts, next_attempt_at, last_status, last_error, raised_at,
       created_at, finished_at
FROM deliveries WHERE destination = 'webhook';

CREATE VIEW notification_attempts AS
SELECT d.event_id AS alert_event_id, a.attempt, a.outcome, a.status_code, a.error,
       a.started_at, a.finished_at
FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
WHERE d.destination = 'webhook';
