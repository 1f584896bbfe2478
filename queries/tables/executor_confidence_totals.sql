-- executor_confidence_totals: executor_confidence_values summed over days, fleets and task
-- types (a temp table, created by queries.rollups.register): what the calibration queries
-- read when the selection is everything.
-- Grain: one row per tier x confidence source x stated confidence (null when absent) x ok.
-- Parameters: none.
create or replace temp table executor_confidence_totals as
select tier, confidence_source, confidence, ok, sum(attempts) as attempts
from executor_confidence_values
group by all
