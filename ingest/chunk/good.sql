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
),

identified as (
    -- no part is NULL (a join would not match it): task_id is required and never empty
    select *, {
        'kind': kind,
        'task_id': coalesce(task_id, ''),
        'by': coalesce(case when kind = 'attempt' then role else detected_by end, ''),
        'at': coalesce(case when kind = 'attempt' then cast(attempt as varchar)
                            else cast(ts as varchar) end, '')
    } as identity
    from hashed
),

repeated as (  -- most identities are one record's: only repeated ones need the window
    select identity from identified group by identity having count(*) > 1
),

firsts as (
    select line,
        row_number() over same as nth,
        first_value(record_hash) over same as first_hash,
        first_value(line) over same as first_line
    from identified
    semi join repeated using (identity)
    window same as (partition by identity order by line)
)

select i.* exclude (identity),
    coalesce(f.nth, 1) as nth,
    coalesce(f.first_hash, i.record_hash) as first_hash,
    coalesce(f.first_line, i.line) as first_line
from identified as i
left join firsts as f using (line)
