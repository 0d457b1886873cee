-- Read models, kept by the projector from the events. They can be dropped and rebuilt from
-- zero at any time (`motcua projections rebuild`); nothing here is a source of truth.
CREATE TABLE dossiers (
    code                  text PRIMARY KEY,
    unit_code             text        NOT NULL,
    procedure_code        text        NOT NULL,
    state                 text        NOT NULL,
    status_code           integer     NOT NULL,
    sla_status            text        NOT NULL,
    channel               text        NOT NULL,
    assignee              text,
    received_at           timestamptz NOT NULL,
    due_at                timestamptz,
    due_soon_at           timestamptz,
    original_due_at       timestamptz,
    deadline_version      integer     NOT NULL DEFAULT 0,
    calendar_version      text,
    catalog_version       text,
    apology_sent          boolean     NOT NULL DEFAULT false,
    overdue_without_apology boolean   NOT NULL DEFAULT false,
    supplement_requests   integer     NOT NULL DEFAULT 0,
    paused_seconds        bigint      NOT NULL DEFAULT 0,
    finished_at           timestamptz,
    closed_at             timestamptz,
    timeliness            text,
    satisfaction          text,
    version               integer     NOT NULL,
    updated_at            timestamptz NOT NULL,
    snapshot              jsonb       NOT NULL
);
CREATE INDEX dossiers_unit_due ON dossiers (unit_code, due_at);
CREATE INDEX dossiers_due ON dossiers (due_at, code);
CREATE INDEX dossiers_state ON dossiers (state);
CREATE INDEX dossiers_assignee ON dossiers (assignee) WHERE assignee IS NOT NULL;

-- Each unit's open work, ordered by due time: what an officer's queue shows.
CREATE TABLE work_queue (
    code           text PRIMARY KEY,
    unit_code      text        NOT NULL,
    procedure_code text        NOT NULL,
    state          text        NOT NULL,
    sla_status     text        NOT NULL,
    assignee       text,
    due_at         timestamptz
);
CREATE INDEX work_queue_unit_due ON work_queue (unit_code, due_at, code);

-- Where each projection has read up to, written in the same transaction as its updates.
CREATE TABLE projection_checkpoints (
    name             text PRIMARY KEY,
    tx_id            xid8        NOT NULL DEFAULT '0'::xid8,
    global_position  bigint      NOT NULL DEFAULT 0,
    last_recorded_at timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
