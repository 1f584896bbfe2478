-- file_counts: what became of each file's records in the chunk: loaded (new), duplicates,
-- rejected (a check refused it, or it conflicts), and of the loaded and duplicate ones,
-- how many are downstream-failure records (the rest are attempts). Lines as in
-- staged_rejects.sql.
-- Grain: one row per file of the chunk that staged records (k). Parameters: $line_bits.
with outcomes as (
    select v.line >> $line_bits as k, v.verdict, g.kind
    from verdicts as v
    join good as g using (line)
    union all
    select line >> $line_bits, 'rejected', kind from checked where problem is not null
)
select k,
    count(*) filter (where verdict = 'new') as loaded,
    count(*) filter (where verdict = 'duplicate') as duplicates,
    count(*) filter (where verdict = 'rejected' or verdict like 'conflict%') as rejected,
    count(*) filter (
        where kind = 'downstream_failure' and verdict in ('new', 'duplicate')
    ) as downstream_failures
from outcomes
group by k
