-- executor_models_daily: executor calls per day, fleet, task type, tier and model (a temp
-- table, created by queries.rollups.register; one pass over the attempts that the
-- drift queries then read instead of the attempts).
-- Grain: one row per UTC day x fleet x task type x tier x model id ('(not given)' when absent).
-- Parameters: none.
create or replace temp table executor_models_daily as
select
    cast(ts as date) as day,
    fleet,
    task_type,
    tier,
    coalesce(model, '(not given)') as model,
    count(*) as attempts
from attempts
where role = 'executor'
group by all
