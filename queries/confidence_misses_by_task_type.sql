-- confidence_misses_by_task_type: of the answers a task type's executors got accepted, how
-- many were found wrong downstream and what confidence they had said: the evidence for
-- recalibrate_confidence recommendations (failure mode 2).
-- Grain: one row per task type x final tier with at least one accepted answer (a task whose
-- last attempt was ok).
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all).
-- high: confidence >= 0.8 (or the word high); wrong: a downstream failure was reported.
with selected as (
    select task_type, final_tier, final_confidence, downstream_failure
    from tasks
    where final_status = 'ok'
      and (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
)

select
    s.task_type,
    s.final_tier,
    l.rank as tier_rank,
    count(*) as accepted,
    count(*) filter (where s.final_confidence is not null) as with_confidence,
    count(*) filter (where s.downstream_failure) as wrong,
    count(*) filter (where s.downstream_failure and s.final_confidence >= 0.8) as wrong_high,
    count(*) filter (where s.downstream_failure and s.final_confidence is not null)
        as wrong_with_confidence,
    count(*) filter (where not s.downstream_failure and s.final_confidence >= 0.8) as right_high,
    count(*) filter (where not s.downstream_failure and s.final_confidence is not null)
        as right_with_confidence,
    avg(s.final_confidence) filter (where s.final_confidence >= 0.8) as mean_high_confidence
from selected as s
join ladder as l on l.name = s.final_tier
group by s.task_type, s.final_tier, l.rank
order by s.task_type, l.rank
