-- tierwatch store, schema version 9: every price-independent rollup kept in the store.
-- The reports and pages read these instead of building them from every attempt and task on
-- each new connection (which made a one-shot `tierwatch report` on a large store spend
-- seconds before its first number). Each is maintained by every ingest, in the same
-- transaction as the file, for the (day, task type, fleet) keys its records touched; its
-- SQL file (ingest/rollups/NAME.sql) and what it is built from are in the registry,
-- ingest/derived.py. None holds a price: spend is priced when a report asks. Filled from the
-- tasks and attempts when this migration is applied (store.migrate).
create table if not exists task_outcomes_daily (
    day date not null,
    fleet varchar,
    task_type varchar not null,
    assigned_tier varchar,
    final_tier varchar,
    escalated boolean,
    skipped_tier boolean,
    failed boolean,
    first_pass_failed boolean,
    downstream_failure boolean,
    quality_failed boolean,
    accepted boolean,
    has_confidence boolean,
    high_confidence boolean,
    silent_failure boolean,
    tasks bigint not null,
    sum_high_confidence double,
    final_uncached_input_tokens hugeint,
    final_cached_input_tokens hugeint,
    final_output_tokens hugeint
);

create table if not exists chain_shapes (
    day date not null,
    fleet varchar,
    task_type varchar not null,
    tier_path varchar[],
    first_pass_failed boolean,
    accepted boolean,
    downstream_failure boolean,
    failed boolean,
    tasks bigint not null,
    final_uncached_input_tokens hugeint,
    final_cached_input_tokens hugeint,
    final_output_tokens hugeint
);

create table if not exists skip_tier_steps_daily (
    day date not null,
    fleet varchar,
    task_type varchar not null,
    from_tier varchar,
    to_tier varchar,
    steps bigint not null,
    tasks bigint not null
);

create table if not exists escalation_step_rollup (
    day date not null,
    task_type varchar not null,
    fleet varchar,
    from_tier varchar,
    to_tier varchar,
    steps bigint not null
);

create table if not exists escalation_reason_rollup (
    day date not null,
    task_type varchar not null,
    fleet varchar,
    reason varchar,
    attempts bigint not null
);

create table if not exists accepted_wrong_values (
    day date not null,
    fleet varchar,
    task_type varchar not null,
    tier varchar,
    confidence_source varchar,
    confidence double,
    attempts bigint not null
);

create table if not exists executor_models_daily (
    day date not null,
    fleet varchar,
    task_type varchar not null,
    tier varchar,
    model varchar,
    attempts bigint not null
);

create table if not exists executor_confidence_values (
    day date not null,
    fleet varchar,
    task_type varchar not null,
    tier varchar,
    confidence_source varchar,
    confidence double,
    ok boolean,
    attempts bigint not null
);

create table if not exists executor_confidence_totals (
    tier varchar,
    confidence_source varchar,
    confidence double,
    ok boolean,
    attempts hugeint not null
);

create table if not exists attempt_usage (
    day date not null,
    task_type varchar not null,
    fleet varchar,
    role varchar not null,
    tier varchar,
    model varchar,
    superseded boolean not null,
    attempts bigint not null,
    logged_attempts bigint not null,
    logged_usd double,
    uncached_input_tokens hugeint,
    cached_input_tokens hugeint,
    output_tokens hugeint
);
