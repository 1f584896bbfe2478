-- executor_confidence_totals: executor_confidence_values summed over days, fleets and task
-- types, kept in the store and summed again whole at every load (ingest/derived.py; the
-- values are a few thousand rows): what the calibration queries read when the selection is
-- everything.
-- Grain: one row per tier x confidence source x stated confidence (null when absent) x ok.
select tier, confidence_source, confidence, ok, sum(attempts) as attempts
from executor_confidence_values
group by all
