-- tierwatch store, schema version 6: who loaded each file.
-- A shared dashboard records its signed-in user for an upload (docs/deploy.md); the CLI
-- records the operating-system user that ran `tierwatch ingest`. Older rows have none.
alter table ingested_files add column if not exists loaded_by varchar;
