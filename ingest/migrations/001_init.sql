-- tierwatch store, schema version 1.
-- Raw facts (attempts, downstream_failures), the ingest ledger and its rejects, and
-- task-level facts (tasks) derived from the attempts at ingest by ingest/tasks.sql.

-- The escalation ladder the store was built with, cheapest first. Fixed at first ingest:
-- task-level facts (escalation, skip-tier) depend on it.
create table ladder (
    rank integer not null,          -- 1 = cheapest
    name varchar not null
);

create sequence file_id_seq start 1;

-- One row per ingest of one file: the accounting read = loaded + duplicates + rejected.
create table ingested_files (
    file_id integer not null,
    path varchar not null,
    sha256 varchar not null,
    size_bytes bigint not null,
    format varchar not null,
    read bigint not null,
    loaded bigint not null,
    duplicates bigint not null,
    rejected bigint not null,
    started_at timestamp not null,
    finished_at timestamp not null
);

-- One row per model call. Identity: (task_id, role, attempt).
create table attempts (
    task_id varchar not null,
    role varchar not null,
    attempt integer not null,
    ts timestamp not null,              -- UTC
    task_type varchar not null,
    tier varchar not null,              -- a ladder name, lower case
    planner_tier varchar,               -- a ladder name, or null when not given
    model varchar,
    input_tokens bigint not null,
    output_tokens bigint not null,
    cached_input_tokens bigint,         -- null when not given (priced as 0)
    cost_usd double,                    -- as logged; null when the fleet did not log it
    confidence double,                  -- [0, 1]; high/medium/low stored as 0.9/0.6/0.3
    confidence_label varchar,           -- high / medium / low when logged as a word
    confidence_source varchar,
    status varchar not null,            -- ok / failed / error
    escalation_reason varchar,
    downstream_failure boolean,
    plan_id varchar,
    fleet varchar,
    agent varchar,
    latency_ms double,
    extra json,                         -- fields the format does not know, kept as given
    record_hash varchar not null,       -- of the normalized record: tells duplicates from conflicts
    file_id integer not null,
    line bigint not null
);

-- A downstream failure reported on its own. Identity: (task_id, ts, detected_by).
create table downstream_failures (
    task_id varchar not null,
    ts timestamp not null,
    detected_by varchar,
    extra json,
    record_hash varchar not null,
    file_id integer not null,
    line bigint not null
);

-- Quarantine: every record that broke the format, with why, and its text as read.
create table rejects (
    file_id integer not null,
    path varchar not null,
    line bigint not null,               -- line (JSONL, CSV) or row (Parquet), 1-based
    field varchar,                      -- the field at fault, when one is
    reason varchar not null,
    raw varchar
);

-- Task-level facts, one row per task that has at least one executor attempt, refreshed
-- for the touched tasks by every ingest (ingest/tasks.sql).
create table tasks (
    task_id varchar not null,
    task_type varchar not null,
    fleet varchar,
    plan_id varchar,
    agent varchar,
    planner_tier varchar,
    planner_tier_rank integer,
    first_ts timestamp not null,
    last_ts timestamp not null,
    day date not null,                   -- UTC day of the first executor attempt
    n_attempts integer not null,         -- executor attempts
    tier_path varchar[] not null,        -- executor tiers in chain order
    first_tier varchar not null,
    final_tier varchar not null,
    first_tier_rank integer not null,
    final_tier_rank integer not null,
    escalations integer not null,        -- steps to a higher tier
    retries integer not null,            -- repeats on the same tier
    skip_tier_escalations integer not null,  -- steps up two or more rungs at once
    step_downs integer not null,
    escalation_reasons varchar[] not null,
    first_status varchar not null,
    final_status varchar not null,
    final_model varchar,
    final_confidence double,
    final_confidence_label varchar,
    final_confidence_source varchar,
    final_input_tokens bigint not null,
    final_output_tokens bigint not null,
    final_cached_input_tokens bigint not null,
    downstream_failure boolean not null,
    downstream_detected_at timestamp,
    first_pass_failed boolean not null,
    failed boolean not null,
    silent_failure boolean not null
);

-- Re-tiering flags as a history: the current flag of a task type is its latest row,
-- and an 'unflag' row clears it.
create sequence flag_id_seq start 1;
create table flags (
    flag_id integer not null,
    task_type varchar not null,
    action varchar not null,             -- flag / unflag
    target_tier varchar,
    reason varchar,
    note varchar,
    flagged_by varchar not null,
    flagged_at timestamp not null
);

-- Small facts about the store: data_version grows with every write that changes what a
-- page shows, so caches keyed on it see an ingest at once.
create table meta (
    key varchar not null,
    value varchar not null
);
insert into meta values ('data_version', '0');
