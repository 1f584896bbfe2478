-- last_stored_attempts: for each (task, role) being derived from a source, the last attempt
-- the store already holds of it that began before the task's first call being derived,
-- and that attempt's status, so that numbering (and the next attempt's reason) goes on
-- from it: a LiteLLM logger writing one file per call, a log rotated mid-task, a task the
-- fleet retried in a new trace. Attempts begun later do not count, so loading the same
-- calls again numbers them as the first time and they are duplicates; nor does an attempt
-- made of any of the calls being derived (that delivery again, whose start, kept to the
-- microsecond, can round to before the call's own). Order is by start,
-- then by first call id, as sources number a task's calls (NULL start: last).
-- Grain: one row per (task_id, role) of deriving_tasks that the store holds attempts of.
-- Inputs: temp tables deriving_tasks(task_id, role, first_us, first_call) (the first
-- call's start in epoch microseconds, and its id), deriving_calls(call_id), and
-- grouped_attempts (attempts of files loaded in the same pass, as in `attempts`, with the
-- start as ts_us; empty outside ingest_small_files).
with held as (
    select a.task_id, a.role, a.attempt, a.status, a.extra, epoch_us(a.ts) as ts_us,
        d.first_us, d.first_call
    from attempts as a
    join deriving_tasks as d using (task_id, role)
    union all  -- files before this one in its pass, not stored yet (ingest_small_files)
    select g.task_id, g.role, g.attempt, g.status, g.extra, g.ts_us, d.first_us, d.first_call
    from grouped_attempts as g
    join deriving_tasks as d using (task_id, role)
),
stored as (
    select task_id, role, attempt, status, extra
    from held
    where (ts_us, coalesce(json_extract_string(extra, '$."source.call_ids"[0]'), ''))
        < (coalesce(first_us, 9223372036854775807), first_call)
),
delivered_again as (
    select distinct s.task_id, s.role, s.attempt
    from stored as s,
        unnest(coalesce(json_extract_string(s.extra, '$."source.call_ids"[*]'), [])) as u(call_id)
    where u.call_id in (select call_id from deriving_calls)
)
select s.task_id, s.role, max(s.attempt) as last_attempt, arg_max(s.status, s.attempt) as status
from stored as s
anti join delivered_again as g using (task_id, role, attempt)
group by s.task_id, s.role
