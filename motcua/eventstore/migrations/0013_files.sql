-- Files on a dossier (issue 26; motcua/files/). The description of each file is a
-- `FileAttached` event on the dossier's stream; only the encrypted bytes and two audit trails
-- live here. The per-dossier keys are NOT here: see motcua/files/keys.py (schema motcua_keys,
-- or a database of its own).
--   file_blobs       : the default file store (AES-GCM ciphertext, key `<code>/<file id>`);
--                      an S3-compatible store replaces it by configuration;
--   dossier_erasures : who erased which dossier's key, when and why (Decree 13/2023/NĐ-CP),
--                      one row per request (a repeated erasure is recorded again);
--   file_reads       : reads of a file for reuse in another dossier (same unit scope), so the
--                      reuse of a citizen's paper can be accounted for.
CREATE TABLE file_blobs (
    key        text        PRIMARY KEY,
    data       bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Large values are compressed and moved out of line by TOAST already; ciphertext does not
-- compress, so skip the attempt.
ALTER TABLE file_blobs ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE dossier_erasures (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text        NOT NULL,
    reason     text        NOT NULL CHECK (reason <> ''),
    erased_by  text        NOT NULL,
    erased_at  timestamptz NOT NULL DEFAULT now(),
    blobs_deleted integer  NOT NULL DEFAULT 0
);
CREATE INDEX dossier_erasures_code ON dossier_erasures (code);

CREATE TABLE file_reads (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text        NOT NULL,
    file_id    uuid        NOT NULL,
    read_by    text        NOT NULL,
    purpose    text        NOT NULL,
    into_code  text,
    read_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX file_reads_code ON file_reads (code);
