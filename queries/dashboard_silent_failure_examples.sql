-- dashboard_silent_failure_examples: silent failures to look at (accepted with high
-- confidence, found wrong downstream), the latest few per task type.
-- Grain: one row per silent-failure task, at most $per_task_type per task type.
-- Parameters: $since, $until, $fleets, $task_types, $per_task_type (integer, at most 5:
-- silent_failure_examples keeps the latest five of each day, task type and fleet).
with selected as (
    select *
    from silent_failure_examples
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
)

select
    task_type,
    task_id,
    day,
    final_tier,
    final_model,
    final_confidence,
    final_confidence_source,
    downstream_detected_at,
    plan_id
from selected
qualify row_number() over (partition by task_type order by first_ts desc, task_id) <= $per_task_type
order by task_type, day desc, task_id
