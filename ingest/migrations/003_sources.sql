-- tierwatch store, schema version 3: other tools' telemetry (OpenTelemetry, LiteLLM, Langfuse).
-- A source file also holds spans and records that are not model calls: they are counted as
-- skipped, by kind, so that read = loaded + duplicates + rejected + skipped. A source's
-- reject is found by its own locator (line, trace and span), kept beside the record number.
alter table ingested_files add column skipped bigint default 0;
alter table ingested_files add column skipped_kinds json;
alter table rejects add column locator varchar;
alter table staging_rejects add column locator varchar;
