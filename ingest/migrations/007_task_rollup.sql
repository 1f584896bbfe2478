-- tierwatch store, schema version 7: the task rollup kept in the store.
-- The tasks summed per day (the task's), task type, fleet, planner tier rank (0 = not
-- given), first and final executed tier rank; maintained by every ingest in the same
-- transaction as the file, for the keys its tasks touched (ingest/task_rollup.sql). The
-- summary, tiers, escalations and costs reports and the dashboard's charts read it instead
-- of every task; it holds no price (spend is priced at query time). Filled from the tasks
-- when this migration is applied (store.migrate).
create table if not exists task_rollup (
    day date not null,
    task_type varchar not null,
    fleet varchar,
    tasks bigint not null,
    executor_attempts hugeint,
    failures bigint not null,
    first_pass_failures bigint not null,
    downstream_failures bigint not null,
    escalated_tasks bigint not null,
    retried_tasks bigint not null,
    skip_tier_tasks bigint not null,
    escalations hugeint,
    retries hugeint,
    skip_tier_escalations hugeint,
    step_downs hugeint,
    rescued_tasks bigint not null,
    final_uncached_input_tokens hugeint,
    final_cached_input_tokens hugeint,
    final_output_tokens hugeint,
    planner_rank integer not null,
    first_rank integer not null,
    final_rank integer not null
);
