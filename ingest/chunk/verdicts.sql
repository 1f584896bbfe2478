-- verdicts: what becomes of each good record. A record is compared with the first accepted
-- record of its identity: the stored one (the store, or this file's earlier chunks), else
-- the first of this chunk; never with a record that was itself rejected.
-- verdict: 'new', 'duplicate' (same content), 'conflict_stored' (differs from the stored
-- one) or 'conflict_here' (differs from the first of this chunk).
-- Grain: one row per good record. Parameters: none.
create or replace temp table verdicts as
with earlier as (
    select g.line, a.record_hash as stored_hash, a.file_id as stored_file,
        a.line as stored_line
    from good as g
    join (
        select task_id, role, attempt, record_hash, file_id, line from attempts
        union all  -- this file's earlier chunks
        select task_id, role, attempt, record_hash, file_id, line from staging_attempts
    ) as a
      on g.kind = 'attempt' and a.task_id = g.task_id and a.role = g.role
     and a.attempt = g.attempt
    union all
    select g.line, d.record_hash, d.file_id, d.line
    from good as g
    join (
        select * from downstream_failures
        union all
        select * from staging_downstream_failures
    ) as d
      on g.kind = 'downstream_failure' and d.task_id = g.task_id and d.ts = g.ts
     and coalesce(d.detected_by, '') = coalesce(g.detected_by, '')
)

select g.line,
    case
        when e.stored_hash = g.record_hash then 'duplicate'
        when e.stored_hash is not null then 'conflict_stored'
        when g.nth = 1 then 'new'
        when g.record_hash = g.first_hash then 'duplicate'
        else 'conflict_here'
    end as verdict,
    g.first_line, e.stored_file, e.stored_line
from good as g
left join earlier as e using (line)
