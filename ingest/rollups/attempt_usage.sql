-- attempt_usage: what the calls used, summed per day so that spend is priced when a report
-- asks (queries/tables/priced_usage.sql, by the config's prices of the day) without reading
-- every attempt: the calls that logged their cost, with that cost summed, and the tokens of
-- those that did not. Kept in the store (ingest/derived.py); it holds no price.
-- Grain: one row per UTC day (the call's) x task type x fleet x role x tier x model x
-- superseded (an executor call that a later executor call of its task superseded: the calls
-- of a chain before its last, retries and escalations alike). downstream_labelled: the calls
-- that say whether a later step found their output wrong (downstream_failure true or false).
-- Its rows for the keys in temp table rollup_keys(day, task_type, fleet), summed over
-- the calls in scope (calls_in_scope), which ingest/derived.py prepares; the day, task
-- type and fleet are the call's own.
with scoped as (
    select
        a.task_id, a.role, a.attempt, cast(a.ts as date) as day, a.task_type, a.fleet,
        a.tier, a.model, a.cost_usd, a.input_tokens, a.cached_input_tokens, a.output_tokens,
        a.downstream_failure
    from calls_in_scope as a
    semi join rollup_keys as k
        on k.day = cast(a.ts as date) and k.task_type = a.task_type
       and k.fleet is not distinct from a.fleet
),

last_attempts as (
    -- a chain's last attempt has the highest attempt number (attempt numbers are unique
    -- within a task's executor calls); a chain of two or more has one above 1
    select task_id, max(attempt) as last_attempt
    from attempts
    where role = 'executor' and attempt > 1
      and task_id in (select task_id from scoped where role = 'executor')
    group by task_id
)

select
    s.day,
    s.task_type,
    s.fleet,
    s.role,
    s.tier,
    s.model,
    coalesce(s.role = 'executor' and s.attempt < l.last_attempt, false) as superseded,
    count(*) as attempts,
    count(s.cost_usd) as logged_attempts,
    sum(s.cost_usd) as logged_usd,
    sum(s.input_tokens - coalesce(s.cached_input_tokens, 0)) filter (where s.cost_usd is null)
        as uncached_input_tokens,
    sum(coalesce(s.cached_input_tokens, 0)) filter (where s.cost_usd is null)
        as cached_input_tokens,
    sum(s.output_tokens) filter (where s.cost_usd is null) as output_tokens,
    count(s.downstream_failure) as downstream_labelled
from scoped as s
left join last_attempts as l using (task_id)
group by all
