-- executor_models_daily: executor calls per day, fleet, task type, tier and model, kept in
-- the store (ingest/derived.py); the drift queries read it instead of the attempts.
-- Grain: one row per UTC day x fleet x task type x tier x model id ('(not given)' when absent).
-- Rows of the keys in temp table rollup_keys(day, task_type, fleet), the day being the
-- call's own, as are its task type and fleet (ingest/derived.py).
insert into executor_models_daily
select
    cast(a.ts as date) as day,
    a.fleet,
    a.task_type,
    a.tier,
    coalesce(a.model, '(not given)') as model,
    count(*) as attempts
from attempts as a
semi join rollup_keys as k
    on k.day = cast(a.ts as date) and k.task_type = a.task_type
   and k.fleet is not distinct from a.fleet
where a.role = 'executor'
group by all
