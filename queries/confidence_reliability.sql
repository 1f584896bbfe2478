-- confidence_reliability: how often executor attempts succeed at each stated confidence.
-- Grain: one row per executed tier x confidence source x confidence bin. Ten bins of width
-- 0.1: bin k holds confidences in [k/10, (k+1)/10), bin 9 also holds 1.0; the words high /
-- medium / low (stored as 0.9 / 0.6 / 0.3) fall in bins 9, 6 and 3.
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all): they select
-- tasks by their day, fleet and task type; every executor attempt of a selected task counts.
-- Success of an attempt: its status is ok and, when it is the task's accepted (last) attempt,
-- no downstream failure was reported for the task. Attempts without a confidence are left
-- out (confidence_scores counts them).
with selected as (
    select task_id, downstream_failure
    from tasks
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
),

executor_attempts as (
    select a.task_id, a.attempt, a.tier, a.confidence, a.confidence_source, a.status,
           s.downstream_failure
    from attempts as a
    join selected as s using (task_id)
    where a.role = 'executor'
),

accepted as (
    select task_id, max(attempt) as attempt
    from executor_attempts
    group by task_id
),

scored as (
    select
        e.tier,
        coalesce(e.confidence_source, '(not given)') as confidence_source,
        e.confidence,
        cast(least(floor(e.confidence * 10), 9) as integer) as bin,
        (e.status = 'ok' and not (e.downstream_failure and e.attempt = acc.attempt)) as success
    from executor_attempts as e
    join accepted as acc using (task_id)
    where e.confidence is not null
)

select
    s.tier,
    l.rank as tier_rank,
    s.confidence_source,
    s.bin,
    s.bin / 10.0 as bin_low,
    (s.bin + 1) / 10.0 as bin_high,
    count(*) as attempts,
    count(*) filter (where s.success) as successes,
    avg(s.confidence) as mean_confidence
from scored as s
join ladder as l on l.name = s.tier
group by s.tier, l.rank, s.confidence_source, s.bin
order by l.rank, s.confidence_source, s.bin
