-- lake_downstream_failures: the downstream failures reported on their own, as a lake holds
-- them (docs/scale.md): the store's columns but its bookkeeping (file_id, line), `extra`
-- as JSON text, and the UTC day of `ts` to partition by.
-- Grain: one row per stored downstream-failure record of the days asked.
-- Parameters: $since, $until (dates, both inclusive; NULL for no bound).
select
    task_id, ts, detected_by,
    cast(extra as varchar) as extra,
    record_hash,
    cast(ts as date) as day
from downstream_failures
where (cast($since as date) is null or cast(ts as date) >= cast($since as date))
  and (cast($until as date) is null or cast(ts as date) <= cast($until as date))
order by day, ts, task_id
