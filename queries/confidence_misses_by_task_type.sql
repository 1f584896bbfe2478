-- confidence_misses_by_task_type: of the answers a task type's executors got accepted, how
-- many were found wrong downstream and what confidence they had said: the evidence for
-- recalibrate_confidence recommendations (failure mode 2).
-- Grain: one row per task type x final tier with at least one accepted answer (a task whose
-- last attempt was ok).
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all).
-- Reads the rollups the store keeps (ingest/derived.py).
-- high: confidence >= 0.8 (or the word high); wrong: a downstream failure was reported.
with selected as (
    select *
    from task_outcomes_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
      and accepted
)

select
    s.task_type,
    s.final_tier,
    l.rank as tier_rank,
    sum(s.tasks) as accepted,
    coalesce(sum(s.tasks) filter (where s.has_confidence), 0) as with_confidence,
    coalesce(sum(s.tasks) filter (where s.downstream_failure), 0) as wrong,
    coalesce(sum(s.tasks) filter (where s.downstream_failure and s.high_confidence), 0)
        as wrong_high,
    coalesce(sum(s.tasks) filter (where s.downstream_failure and s.has_confidence), 0)
        as wrong_with_confidence,
    coalesce(sum(s.tasks) filter (where not s.downstream_failure and s.high_confidence), 0)
        as right_high,
    coalesce(sum(s.tasks) filter (where not s.downstream_failure and s.has_confidence), 0)
        as right_with_confidence,
    sum(s.sum_high_confidence) / sum(s.tasks) filter (where s.high_confidence)
        as mean_high_confidence
from selected as s
join ladder as l on l.name = s.final_tier
group by s.task_type, s.final_tier, l.rank
order by s.task_type, l.rank
