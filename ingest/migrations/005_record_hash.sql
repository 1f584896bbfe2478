-- tierwatch store, schema version 5: record hashes that cannot collide.
-- Up to version 4 a record's hash was md5 over its values joined by chr(31), with chr(0)
-- for NULL, so a value holding either character could make two different records hash
-- alike (a conflict counted as a duplicate). The hash is now md5 over length-prefixed
-- values, with unknown fields compared as JSON values (ingest/identity.py, whose macros
-- store.migrate defines on the connection before running this). Stored hashes are
-- recomputed, so that re-loading a file loaded before gives duplicates, not conflicts.
update attempts set record_hash = attempt_hash(
    task_id, role, attempt, ts, task_type, tier, planner_tier, model, input_tokens,
    output_tokens, cached_input_tokens, cost_usd, confidence, confidence_source, status,
    escalation_reason, downstream_failure, plan_id, fleet, agent, latency_ms, extra);
update downstream_failures set record_hash = downstream_hash(task_id, ts, detected_by, extra);
