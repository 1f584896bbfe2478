-- staged_rejects: the chunk's rejects, into staging_rejects: every record a check refused,
-- and every conflict, naming the record it clashes with (in this file, or already loaded).
-- Grain: one row per rejected record. Parameters: $file_id, $path (the file as shown),
-- $sources (the formats whose records are numbered as read, not by line).
insert into staging_rejects
select $file_id, $path, c.line, c.problem.field, c.problem.reason, c.raw, s.locator
from checked as c
join stage as s using (line)
where c.problem is not null
union all
select $file_id, $path, v.line, null,
    'conflicts with '
    || case
        when v.verdict = 'conflict_here' then
            coalesce(first.locator, 'line ' || v.first_line) || ' of this file'
        when v.stored_file = $file_id then
            case when s.locator is null then 'line' else 'record' end || ' ' || v.stored_line
            || ' of this file'
        else
            'the record already loaded from ' || f.path || ' '
            || case when list_contains($sources, f.format) then 'record ' else 'line ' end
            || v.stored_line
    end
    || ': same identity (task_id, role, attempt) but different content; '
    || case
        when v.verdict = 'conflict_here' or v.stored_file = $file_id then 'keep one of them'
        else 'correct one of them, or load this file into a new --db'
    end,
    g.raw, s.locator
from verdicts as v
join good as g using (line)
join stage as s using (line)
left join stage as first on first.line = v.first_line
left join ingested_files as f on f.file_id = v.stored_file
where v.verdict in ('conflict_here', 'conflict_stored')
