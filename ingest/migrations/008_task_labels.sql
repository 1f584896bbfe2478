-- tierwatch store, schema version 8: a task's labels in a total order.
-- A task's planner tier, fleet, plan id and agent are the first logged on its calls; before
-- this version "first" was by attempt alone, and the planner's, the executor's and the
-- reviewer's call of one attempt tied, so a label could depend on the order rows were
-- scanned in (and a lake rolled up by Spark disagreed with the store; docs/scale.md). Now
-- an attempt's executor call comes first, then the planner's, then the reviewer's
-- (ingest/tasks.sql). Every task is recomputed when this migration is applied
-- (store.migrate), and so is the task rollup.
create or replace temp table touched as
select task_id from attempts
union
select task_id from downstream_failures;
