-- Issue 26: Decision 766 group 4 (digitisation) in the SLA report. Per dossier, whether it has
-- a component file on file, one reused from an earlier dossier, one taken from the national data
-- store, and a signed electronic result; counted on the dossier's receipt date (the indicators'
-- denominator is the dossiers received in the period). Dossiers whose files were recorded
-- before this migration count after `motcua projections rebuild`.
ALTER TABLE report_facts
    ADD COLUMN has_component_file boolean NOT NULL DEFAULT false,
    ADD COLUMN has_reused_file boolean NOT NULL DEFAULT false,
    ADD COLUMN has_national_store_file boolean NOT NULL DEFAULT false,
    ADD COLUMN has_result_file boolean NOT NULL DEFAULT false;
ALTER TABLE report_counts
    ADD COLUMN dig_components integer NOT NULL DEFAULT 0,
    ADD COLUMN dig_reused integer NOT NULL DEFAULT 0,
    ADD COLUMN dig_national integer NOT NULL DEFAULT 0,
    ADD COLUMN dig_result integer NOT NULL DEFAULT 0;
