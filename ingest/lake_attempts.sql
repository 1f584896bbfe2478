-- lake_attempts: the store's attempts as a lake holds them (docs/scale.md): every column
-- but the store's own bookkeeping (file_id, line), `extra` as JSON text, and the UTC day
-- of `ts`, which with `fleet` names the partition a row is written to.
-- Grain: one row per stored attempt of the days asked.
-- Parameters: $since, $until (dates, both inclusive; NULL for no bound).
select
    task_id, role, attempt, ts, task_type, tier, planner_tier, model,
    input_tokens, output_tokens, cached_input_tokens, cost_usd,
    confidence, confidence_label, confidence_source, status, escalation_reason,
    downstream_failure, plan_id, agent, latency_ms,
    cast(extra as varchar) as extra,
    record_hash,
    cast(ts as date) as day,
    fleet
from attempts
where (cast($since as date) is null or cast(ts as date) >= cast($since as date))
  and (cast($until as date) is null or cast(ts as date) <= cast($until as date))
order by day, fleet, ts, task_id, attempt
