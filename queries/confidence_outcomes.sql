-- confidence_outcomes: successes and failures of executor attempts at each stated confidence.
-- Grain: one row per executed tier x confidence source x confidence value (NULL: attempts
-- that stated none). Parameters: $since, $until (inclusive, on each attempt's UTC date),
-- $fleets, $task_types (on each attempt's own fields; empty = all). Needs
-- the rollups the store keeps. Built once per calibration report into a temp table that
-- confidence_reliability and confidence_scores read.
-- Success of an attempt: its status is ok and, when it is the task's accepted (last) attempt,
-- no downstream failure was reported for the task. The accepted attempts found wrong come
-- from `tasks` (final tier, source and confidence; dated by the task's last executor call)
-- and move from the ok count to the failures.
with everything as (
    select cast($since as date) is null
      and cast($until as date) is null
      and len(cast($fleets as varchar[])) = 0
      and len(cast($task_types as varchar[])) = 0 as yes
),

-- the whole store from the totals, a selection from the daily rows
selected as (
    select tier, confidence_source, confidence, ok, attempts
    from executor_confidence_totals
    where (select yes from everything)
    union all
    select tier, confidence_source, confidence, ok, attempts
    from executor_confidence_values
    where not (select yes from everything)
      and in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

accepted_wrong as (
    select tier, confidence_source, confidence, sum(attempts) as attempts
    from accepted_wrong_values
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by all
),

by_value as (
    select
        tier,
        confidence_source,
        confidence,
        coalesce(sum(attempts) filter (where ok), 0) as ok_attempts,
        coalesce(sum(attempts) filter (where not ok), 0) as not_ok_attempts
    from selected
    group by tier, confidence_source, confidence
),

scored as (
    -- least(): a fleet that logs its name on some calls only can put an accepted call outside
    -- the selection while its task is inside; never move more calls than were selected
    select
        v.tier,
        v.confidence_source,
        v.confidence,
        v.ok_attempts - least(coalesce(w.attempts, 0), v.ok_attempts) as successes,
        v.not_ok_attempts + least(coalesce(w.attempts, 0), v.ok_attempts) as failures
    from by_value as v
    left join accepted_wrong as w using (tier, confidence_source, confidence)
)

select tier, confidence_source, confidence, successes, failures
from scored
