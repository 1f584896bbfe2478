-- good: the chunk's records that passed every check (checked, with their unknown fields
-- from extras), each with its content hash and its place among the records of its
-- identity in this chunk: nth (1 for the first, by line), first_hash and first_line (that
-- first record's). Identity: (task_id, role, attempt) for an attempt, (task_id,
-- detected_by, ts) for a downstream failure. The hash functions' arguments are in the order
-- of ingest/identity.py's ATTEMPT_HASHED and DOWNSTREAM_HASHED (a test keeps them equal).
-- Grain: one row per good record. Parameters: none.
create or replace temp table good as
with hashed as (
    select c.* exclude (has_extra), x.extra,
        case when c.kind = 'attempt' then attempt_hash(
                c.task_id, c.role, c.attempt, c.ts, c.task_type, c.tier, c.planner_tier,
                c.model, c.input_tokens, c.output_tokens, c.cached_input_tokens, c.cost_usd,
                c.confidence, c.confidence_source, c.status, c.escalation_reason,
                c.downstream_failure, c.plan_id, c.fleet, c.agent, c.latency_ms, x.extra)
             else downstream_hash(c.task_id, c.ts, c.detected_by, x.extra)
        end as record_hash
    from checked as c
    left join extras as x using (line)
    where c.problem is null
)

select *,
    row_number() over same as nth,
    first_value(record_hash) over same as first_hash,
    first_value(line) over same as first_line
from hashed
window same as (
    partition by kind, task_id,
        case when kind = 'attempt' then role else coalesce(detected_by, '') end,
        case when kind = 'attempt' then cast(attempt as varchar) else cast(ts as varchar) end
    order by line
)
