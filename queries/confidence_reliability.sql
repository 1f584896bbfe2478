-- confidence_reliability: how often executor attempts succeed at each stated confidence.
-- Grain: one row per executed tier x confidence source x confidence bin. Ten bins of width
-- 0.1: bin k holds confidences in [k/10, (k+1)/10), bin 9 also holds 1.0; the words high /
-- medium / low (stored as 0.9 / 0.6 / 0.3) fall in bins 9, 6 and 3.
-- Parameters: $since, $until (inclusive, on each attempt's UTC date), $fleets, $task_types
-- (on each attempt's own fields; empty = all). Needs queries.rollups.register.
-- Success of an attempt: its status is ok and, when it is the task's accepted (last) attempt,
-- no downstream failure was reported for the task. The accepted attempts found wrong come
-- from `tasks` (final tier, source and confidence; dated by the task's last executor call)
-- and move from the ok count to the failures. Attempts without a confidence are left out
-- (confidence_scores counts them).
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
      and (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
),

accepted_wrong as (
    select tier, confidence_source, confidence, sum(attempts) as attempts
    from accepted_wrong_values
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
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
    where confidence is not null
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

select
    s.tier,
    l.rank as tier_rank,
    s.confidence_source,
    cast(least(floor(s.confidence * 10), 9) as integer) as bin,
    least(floor(s.confidence * 10), 9) / 10.0 as bin_low,
    (least(floor(s.confidence * 10), 9) + 1) / 10.0 as bin_high,
    sum(s.successes + s.failures) as attempts,
    sum(s.successes) as successes,
    sum(s.confidence * (s.successes + s.failures)) / sum(s.successes + s.failures)
        as mean_confidence
from scored as s
join ladder as l on l.name = s.tier
group by s.tier, l.rank, s.confidence_source, bin, bin_low, bin_high
order by l.rank, s.confidence_source, bin
