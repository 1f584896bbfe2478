-- staged_rejects: the chunk's rejects, into staging_rejects: every record a check refused,
-- and every conflict, naming the record it clashes with (in this file, in another file of
-- the chunk, or already loaded).
-- A staged line is (its file's place k in the chunk << $line_bits) | its line in the file;
-- chunk_files(k, file_id, path) names each file (one row when a chunk is one file's).
-- Grain: one row per rejected record. Parameters: $line_bits, $line_mask (its low bits),
-- $sources (the formats whose records are numbered as read, not by line).
insert into staging_rejects
select f.file_id, f.path, c.line & $line_mask, c.problem.field, c.problem.reason,
    c.raw, s.locator
from checked as c
join stage as s using (line)
join chunk_files as f on f.k = c.line >> $line_bits
where c.problem is not null
union all
select f.file_id, f.path, v.line & $line_mask, null,
    'conflicts with '
    || case
        when v.verdict = 'conflict_here' and first_file.k = f.k then
            coalesce(first.locator, 'line ' || (v.first_line & $line_mask))
            || ' of this file'
        when v.verdict = 'conflict_here' then
            'the record already loaded from ' || first_file.path || ' '
            || case when first.locator is null then 'line ' else 'record ' end
            || (v.first_line & $line_mask)
        when v.stored_file = f.file_id then
            case when s.locator is null then 'line' else 'record' end || ' ' || v.stored_line
            || ' of this file'
        else
            'the record already loaded from ' || stored.path || ' '
            || case when list_contains($sources, stored.format) then 'record ' else 'line ' end
            || v.stored_line
    end
    || ': same identity (task_id, role, attempt) but different content; '
    || case
        when (v.verdict = 'conflict_here' and first_file.k = f.k) or v.stored_file = f.file_id
            then 'keep one of them'
        else 'correct one of them, or load this file into a new --db'
    end,
    g.raw, s.locator
from verdicts as v
join good as g using (line)
join stage as s using (line)
join chunk_files as f on f.k = v.line >> $line_bits
left join stage as first on first.line = v.first_line
left join chunk_files as first_file on first_file.k = v.first_line >> $line_bits
left join ingested_files as stored on stored.file_id = v.stored_file
where v.verdict in ('conflict_here', 'conflict_stored')
