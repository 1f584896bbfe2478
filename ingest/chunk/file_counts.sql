-- file_counts: what became of each file's records in the chunk: loaded (new), duplicates,
-- rejected (a check refused it, or it conflicts). Lines as in staged_rejects.sql.
-- Grain: one row per file of the chunk that staged records (k). Parameters: $line_bits.
with outcomes as (
    select line >> $line_bits as k, verdict from verdicts
    union all
    select line >> $line_bits, 'rejected' from checked where problem is not null
)
select k,
    count(*) filter (where verdict = 'new') as loaded,
    count(*) filter (where verdict = 'duplicate') as duplicates,
    count(*) filter (where verdict = 'rejected' or verdict like 'conflict%') as rejected
from outcomes
group by k
