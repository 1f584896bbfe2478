-- downstream_reporting: for each fleet of the selection, whether it reports downstream
-- outcomes at all: one of its attempts carries downstream_failure (true or false), or a
-- downstream-failure record names one of its tasks. The tasks of a fleet that does not
-- count as not failed downstream, which for them says nothing (an OpenTelemetry trace or a
-- LiteLLM log rarely says whether an output was later found wrong), so reports name it.
-- Grain: one row per fleet of the selection (NULL: tasks that name no fleet).
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all). Reads the rollups the store keeps: a call's downstream_failure
-- is counted in attempt_usage, a downstream-failure record in its task's downstream_failures.
with selected as (
    select distinct fleet
    from task_rollup
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

reporting as (
    select distinct fleet from attempt_usage where downstream_labelled > 0
    union
    select distinct fleet from task_rollup where downstream_failures > 0
)

select
    s.fleet,
    exists (select 1 from reporting as r where r.fleet is not distinct from s.fleet) as reports
from selected as s
order by s.fleet nulls first
