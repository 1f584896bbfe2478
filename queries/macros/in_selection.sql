-- in_selection: the macro every result uses for the user's selection, so that one place
-- says what the filters mean.
-- Grain: a predicate, true or false for one row (a day, fleet and task type).
-- Parameters, passed by the caller as $since, $until (inclusive UTC days; null = open),
-- $fleets, $task_types (lists; empty = all). Created on each connection by queries.run.
create temp macro if not exists in_selection(day, fleet, task_type, since, until, fleets, task_types) as (
    (cast(since as date) is null or day >= cast(since as date))
    and (cast(until as date) is null or day <= cast(until as date))
    and (len(cast(fleets as varchar[])) = 0 or list_contains(cast(fleets as varchar[]), fleet))
    and (
        len(cast(task_types as varchar[])) = 0
        or list_contains(cast(task_types as varchar[]), task_type)
    )
)
