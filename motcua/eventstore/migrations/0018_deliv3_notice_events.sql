-- Issue 25 item 2: each citizen's notice delivered is recorded as a `NoticeDelivered` event on
-- the dossier (motcua/notify/recorder.py). The obligation is written with the delivery's
-- outcome, in the same UPDATE (`outbox.record`), so a dispatcher that dies between the
-- gateway's answer and the event leaves the row `event_pending` and the next sweep records
-- it; the event is idempotent on the delivery's key, so a repeat stores nothing.
ALTER TABLE deliveries
    ADD COLUMN event_pending     boolean     NOT NULL DEFAULT false,
    ADD COLUMN event_next_at     timestamptz,
    ADD COLUMN event_attempts    integer     NOT NULL DEFAULT 0,
    ADD COLUMN event_error       text,
    ADD COLUMN event_recorded_at timestamptz;

CREATE INDEX deliveries_event_due ON deliveries (event_next_at) WHERE event_pending;

-- Notices delivered before this migration, for dossiers still open: owed now, so that an
-- apology delivered before the upgrade still counts for the overdue-without-apology alert
-- (`Dossier.apology_reached_citizen`). Those of closed dossiers stay rows only (their record
-- is settled and the backfill would be one Temporal call each for nothing).
UPDATE deliveries SET event_pending = true, event_next_at = now()
WHERE status = 'delivered' AND destination IN ('sms', 'zalo', 'email')
  AND stream IN (SELECT code FROM dossiers WHERE closed_at IS NULL);
