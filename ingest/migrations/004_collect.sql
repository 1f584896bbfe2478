-- tierwatch store, schema version 4: spans received live by `tierwatch collect`.
-- A span is held here from the batch that received it; its trace is derived into attempts
-- (the same mapping as an OTLP file) once complete (docs/collect.md), and then only its
-- identity is kept, so that a span sent again is a duplicate, never a double count.
create table collected_spans (
    trace_id varchar not null,
    span_id varchar not null,
    is_root boolean not null,           -- no parent: the trace's root span
    received_at timestamp not null,     -- UTC
    body varchar,                       -- the span as JSON, until its trace is derived
    derived_in integer                  -- the ledger row (file_id) whose batch derived it
);
