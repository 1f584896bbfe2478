-- fallbacks_not_logged: the file's attempts that LiteLLM answered after Router fallbacks
-- whose failed calls no record holds. LiteLLM_SpendLogs keeps one row per request, the call
-- that answered (metadata.attempted_fallbacks = how many groups failed before it); its S3
-- and GCS loggers log every failed call too, and then those are the task's earlier errored
-- attempts. Without them the task looks right first time on the fallback's tier.
-- Grain: one row per file that has such attempts (their count, and the failed calls they
-- stand for). Parameters: $file_ids (a list).
with loaded as (
    select file_id, task_id, role, attempt,
        try_cast(json_extract_string(extra, '$."litellm.attempted_fallbacks"') as integer)
            as fallbacks
    from attempts
    where list_contains($file_ids, file_id)
),
answered as (
    select * from loaded where fallbacks > 0
),
held as (
    select a.file_id, a.task_id, a.role, a.attempt, a.fallbacks,
        count(e.attempt) filter (where e.status = 'error') as errored_before
    from answered as a
    left join attempts as e
        on e.task_id = a.task_id and e.role = a.role and e.attempt < a.attempt
    group by all
)
select file_id, count(*) as attempts, sum(fallbacks - errored_before) as failed_calls
from held
where errored_before < fallbacks
group by file_id
