-- tierwatch store, schema version 10: the last facts the reports and pages read from the
-- attempts and tasks themselves are kept as rollups too, so that a store can serve every
-- report and page from its rollups alone: a store whose rollups Apache Spark computed over
-- a lake (`tierwatch rollup --engine spark`, docs/scale.md) holds no attempts.
-- Filled from the tasks and attempts when this migration is applied (store.migrate).

-- calls that say whether a later step found their output wrong (downstream_failure true or
-- false): a fleet that has none, and no downstream-failure record, does not report
-- downstream outcomes (queries/downstream_reporting.sql)
alter table attempt_usage add column if not exists downstream_labelled bigint;

-- the drill-down's rows: silent failures, a few per (day, task type, fleet)
create table if not exists silent_failure_examples (
    day date not null,
    task_type varchar not null,
    fleet varchar,
    task_id varchar not null,
    first_ts timestamp,
    plan_id varchar,
    final_tier varchar,
    final_model varchar,
    final_confidence double,
    final_confidence_source varchar,
    downstream_detected_at timestamp,
    silent_failure boolean not null
);

-- where a store's rollups came from when an engine computed them over a lake
-- (tierwatch rollup): one row per lake partition folder rolled up, with a fingerprint of
-- its files, so that a run recomputes only the days whose files changed
create table if not exists lake_partitions (
    lake varchar not null,
    tbl varchar not null,
    day date not null,
    fingerprint varchar not null,
    rolled_at timestamp not null default current_timestamp
);
