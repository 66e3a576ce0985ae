-- Progress of `tessdb import-sqlite`: one row per tessdb-server readings table of an imported SQLite
-- database (an inventory origin of kind 'sqlite'). Readings are committed in chunks in key order
-- (date_id, time_id, tess_id), each chunk in the same transaction as the update of its row here, so a
-- killed import continues after the last committed key. See docs/formats.md.

CREATE TABLE import_progress (
    origin_id       bigint NOT NULL REFERENCES file_origins ON DELETE CASCADE,
    source_table    text NOT NULL,                 -- tess_readings_t or tess_readings4c_t
    last_date_id    integer,                       -- key of the last committed source row (NULL: none yet)
    last_time_id    integer,
    last_tess_id    integer,
    rows_read       bigint NOT NULL DEFAULT 0,
    rows_inserted   bigint NOT NULL DEFAULT 0,
    rows_duplicate  bigint NOT NULL DEFAULT 0,
    rows_rejected   bigint NOT NULL DEFAULT 0,
    input_errors    bigint NOT NULL DEFAULT 0,     -- rejects that mean bad input (invalid values), not rules
    done            boolean NOT NULL DEFAULT false,
    content_hash    text,                          -- of the file when this row was last written
    started_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (origin_id, source_table)
);
