-- dashboard_filter_options: what the dashboard's filter widgets offer.
-- Grain: one row for the whole store. Parameters: none. Reads the rollups the store keeps.
-- The day span of tasks, the fleets and task types seen (sorted), and the attempt count
-- (0 means an empty store: the pages show how to load data).
with task_span as (
    select min(day) as first_day, max(day) as last_day from task_rollup
),

fleets as (
    select list(distinct fleet order by fleet) filter (where fleet is not null) as fleets
    from task_rollup
),

task_types as (
    select list(distinct task_type order by task_type) as task_types from task_rollup
),

attempt_count as (
    select coalesce(sum(attempts), 0) as attempts from attempt_usage
)

select s.first_day, s.last_day, f.fleets, t.task_types, a.attempts
from task_span as s, fleets as f, task_types as t, attempt_count as a
