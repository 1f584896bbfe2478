-- Task-level facts for the tasks named in temp table `touched(task_id)`.
-- Grain: one row per task with at least one executor attempt.
-- A task's executor attempts ordered by attempt (then ts) form its chain; see docs/metrics.md.
-- Run by ingest in the same transaction as the file it loads, after deleting the touched rows.
insert into tasks
with chain as (
    select
        a.*,
        l.rank as tier_rank,
        row_number() over w as step,
        count(*) over (partition by a.task_id) as n_attempts,
        lag(l.rank) over w as prev_rank
    from attempts as a
    join ladder as l on l.name = a.tier
    where a.role = 'executor'
      and a.task_id in (select task_id from touched)
    window w as (partition by a.task_id order by a.attempt, a.ts)
),

-- planner tier and labels may be logged on any call of the task (planner, executor, reviewer):
-- each is the first call's that logs it, in attempt order and, within an attempt, executor
-- before planner before reviewer. (role, attempt) is a call's identity, so the order is
-- total: a label never depends on the order the rows happen to be scanned in
task_labels as (
    select
        task_id,
        arg_min(planner_tier, call_order) filter (where planner_tier is not null)
            as planner_tier,
        arg_min(fleet, call_order) filter (where fleet is not null) as fleet,
        arg_min(plan_id, call_order) filter (where plan_id is not null) as plan_id,
        arg_min(agent, call_order) filter (where agent is not null) as agent,
        bool_or(coalesce(downstream_failure, false)) as flagged_downstream
    from (
        select
            task_id, planner_tier, fleet, plan_id, agent, downstream_failure,
            cast(attempt as bigint) * 3
                + case role when 'executor' then 0 when 'planner' then 1 else 2 end
                as call_order
        from attempts
        where task_id in (select task_id from touched)
    )
    group by task_id
),

reported_downstream as (
    select task_id, min(ts) as detected_at
    from downstream_failures
    where task_id in (select task_id from touched)
    group by task_id
),

chains as (
    select
        task_id,
        arg_min(task_type, step) as task_type,
        min(ts) as first_ts,
        max(ts) as last_ts,
        max(n_attempts) as n_attempts,
        list(tier order by step) as tier_path,
        arg_min(tier, step) as first_tier,
        arg_max(tier, step) as final_tier,
        arg_min(tier_rank, step) as first_tier_rank,
        arg_max(tier_rank, step) as final_tier_rank,
        count(*) filter (where tier_rank > prev_rank) as escalations,
        count(*) filter (where tier_rank = prev_rank) as retries,
        count(*) filter (where tier_rank >= prev_rank + 2) as skip_tier_escalations,
        count(*) filter (where tier_rank < prev_rank) as step_downs,
        list(escalation_reason order by step) filter (
            where step > 1 and escalation_reason is not null
        ) as escalation_reasons,
        arg_min(status, step) as first_status,
        arg_max(status, step) as final_status,
        arg_max(model, step) as final_model,
        arg_max(confidence, step) as final_confidence,
        arg_max(confidence_label, step) as final_confidence_label,
        arg_max(confidence_source, step) as final_confidence_source,
        arg_max(input_tokens, step) as final_input_tokens,
        arg_max(output_tokens, step) as final_output_tokens,
        arg_max(coalesce(cached_input_tokens, 0), step) as final_cached_input_tokens
    from chain
    group by task_id
)

select
    c.task_id,
    c.task_type,
    t.fleet,
    t.plan_id,
    t.agent,
    t.planner_tier,
    pl.rank as planner_tier_rank,
    c.first_ts,
    c.last_ts,
    cast(c.first_ts as date) as day,
    c.n_attempts,
    c.tier_path,
    c.first_tier,
    c.final_tier,
    c.first_tier_rank,
    c.final_tier_rank,
    c.escalations,
    c.retries,
    c.skip_tier_escalations,
    c.step_downs,
    coalesce(c.escalation_reasons, []) as escalation_reasons,
    c.first_status,
    c.final_status,
    c.final_model,
    c.final_confidence,
    c.final_confidence_label,
    c.final_confidence_source,
    c.final_input_tokens,
    c.final_output_tokens,
    c.final_cached_input_tokens,
    (r.task_id is not null or t.flagged_downstream) as downstream_failure,
    r.detected_at as downstream_detected_at,
    c.first_status <> 'ok' as first_pass_failed,
    (c.final_status <> 'ok' or r.task_id is not null or t.flagged_downstream) as failed,
    (
        c.final_status = 'ok'
        and coalesce(c.final_confidence >= 0.8, false)
        and (r.task_id is not null or t.flagged_downstream)
    ) as silent_failure
from chains as c
join task_labels as t using (task_id)
left join reported_downstream as r using (task_id)
left join ladder as pl on pl.name = t.planner_tier
