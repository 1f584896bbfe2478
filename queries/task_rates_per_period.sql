-- task_rates_per_period: failure and escalation rate per day or week, for the rate charts.
-- Grain: one row per period (the UTC day, or the ISO week starting Monday) with at least one
-- task; per first executed tier too when $by_first_tier (first_tier is null otherwise).
-- Parameters: $since, $until, $fleets, $task_types (queries.Filters.params()), $period
-- ('day' or 'week'), $by_first_tier (boolean). Reads task_rollup. The rates are the
-- summary report's: failed tasks / tasks and escalated tasks / tasks.
select
    cast(date_trunc(cast($period as varchar), r.day) as date) as period,
    case when $by_first_tier then f.name end as first_tier,
    sum(r.tasks) as tasks,
    sum(r.failures) as failed,
    sum(r.escalated_tasks) as escalated,
    sum(r.failures) / sum(r.tasks) as failure_rate,
    sum(r.escalated_tasks) / sum(r.tasks) as escalation_rate
from task_rollup as r
join ladder as f on f.rank = r.first_rank
where in_selection(r.day, r.fleet, r.task_type, $since, $until, $fleets, $task_types)
group by all
having sum(r.tasks) > 0
order by period, first_tier
