-- judged_stored_calls: for each Langfuse score a file cannot place among its own calls (a
-- scores export loaded after the observations it judges), the stored call it judges: the
-- generation it names, the last call of the trace it is on, or the last call of the agent
-- run it names (found by the run's default task id, trace/run: docs/sources.md); and
-- whether that call is the last of its task, the output the task ended with.
-- Grain: one row per score of judged_asks that the store places.
-- Inputs: temp tables judged_asks(score_key, trace_id, observation_id) (observation_id
-- NULL: the score is on the trace), and grouped_attempts as in last_stored_attempts.sql
-- (attempts of files loaded earlier in the same pass).
with held as (  -- attempts of the asked traces, with their calls in order
    select task_id, role, attempt, epoch_us(ts) as start_us,
        epoch_us(ts) + coalesce(round(latency_ms * 1000)::bigint, 0) as end_us,
        extra ->> '$."langfuse.trace_id"' as trace_id,
        cast(extra -> '$."source.call_ids"' as varchar[]) as call_ids
    from attempts
    where extra ->> '$."langfuse.trace_id"' in (select trace_id from judged_asks)
    union all
    select task_id, role, attempt, ts_us, ts_us,
        extra ->> '$."langfuse.trace_id"',
        cast(extra -> '$."source.call_ids"' as varchar[])
    from grouped_attempts
    where extra ->> '$."langfuse.trace_id"' in (select trace_id from judged_asks)
),

last_attempts as (  -- each held task's last attempt, in any trace
    select task_id, role, max(attempt) as attempt
    from (
        select task_id, role, attempt from attempts
        where task_id in (select task_id from held)
        union all
        select task_id, role, attempt from grouped_attempts
        where task_id in (select task_id from held)
    )
    group by task_id, role
),

placed as (
    select a.score_key, h.task_id, h.role, h.attempt, h.end_us, h.call_ids,
        case
            when list_contains(h.call_ids, a.observation_id) then a.observation_id
            else h.call_ids[-1]
        end as call_id,
        -- a named generation first, then the run's last call, then the trace's
        row_number() over (
            partition by a.score_key
            order by list_contains(h.call_ids, a.observation_id) desc nulls last,
                h.start_us desc, h.call_ids[-1] desc
        ) as pick
    from judged_asks as a
    join held as h
      on h.trace_id = a.trace_id
     and (a.observation_id is null
          or list_contains(h.call_ids, a.observation_id)
          or h.task_id = a.trace_id || '/' || a.observation_id)
)

select p.score_key, p.task_id, p.role, p.end_us,
    coalesce(p.attempt = l.attempt and p.call_id = p.call_ids[-1], false) as is_last
from placed as p
left join last_attempts as l using (task_id, role)
where p.pick = 1
