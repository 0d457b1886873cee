-- The procedure catalog in PostgreSQL, versioned (issue 11 point 2). `motcua catalog import`
-- stores a province's published list as a new version (not yet active) and shows the diff;
-- `motcua catalog activate VERSION` makes it the one the API (receipt checks) and the worker
-- (deadlines) read, without a restart. The shipped YAML seeds the first version. A version is
-- never changed or deleted: every deadline records the catalog version it was computed under.
CREATE TABLE catalog_versions (
    version      text PRIMARY KEY,
    procedures   jsonb NOT NULL,      -- rows in the import format (motcua.catalog_io.COLUMNS)
    units        jsonb NOT NULL,      -- the receiving units (motcua/data/units.yaml shape)
    origin       text NOT NULL,       -- the file imported, or "seed: shipped catalog"
    imported_by  text NOT NULL,
    imported_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalog_activations (
    id           bigserial PRIMARY KEY,
    version      text NOT NULL REFERENCES catalog_versions (version),
    activated_by text NOT NULL,
    activated_at timestamptz NOT NULL DEFAULT now()
);

-- The active version is the latest activation.
CREATE VIEW catalog_active AS
    SELECT version, activated_by, activated_at FROM catalog_activations
    ORDER BY id DESC LIMIT 1;

CREATE FUNCTION catalog_versions_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'catalog versions are immutable: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER catalog_versions_frozen BEFORE UPDATE OR DELETE ON catalog_versions
    FOR EACH ROW EXECUTE FUNCTION catalog_versions_frozen();

-- Decision 766 item 5.4 over dossiers (issue 11 point 6): the office date of a dossier's first
-- complaint (ComplaintRecorded) or "not satisfied" rating, and its count per bucket.
ALTER TABLE report_facts ADD COLUMN unhappy_day date;
ALTER TABLE report_counts ADD COLUMN unhappy integer NOT NULL DEFAULT 0;
