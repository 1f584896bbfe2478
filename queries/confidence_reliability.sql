-- confidence_reliability: how often executor attempts succeed at each stated confidence.
-- Grain: one row per executed tier x confidence source x confidence bin. Ten bins of width
-- 0.1: bin k holds confidences in [k/10, (k+1)/10), bin 9 also holds 1.0; the words high /
-- medium / low (stored as 0.9 / 0.6 / 0.3) fall in bins 9, 6 and 3.
-- Reads temp table confidence_outcomes (queries/confidence_outcomes.sql: the selection and
-- what success means).
-- Success of an attempt: its status is ok and, when it is the task's accepted (last) attempt,
-- no downstream failure was reported for the task. The accepted attempts found wrong come
-- from `tasks` (final tier, source and confidence; dated by the task's last executor call)
-- and move from the ok count to the failures. Attempts without a confidence are left out
-- (confidence_scores counts them).
select
    s.tier,
    l.rank as tier_rank,
    s.confidence_source,
    cast(least(floor(s.confidence * 10), 9) as integer) as bin,
    least(floor(s.confidence * 10), 9) / 10.0 as bin_low,
    (least(floor(s.confidence * 10), 9) + 1) / 10.0 as bin_high,
    sum(s.successes + s.failures) as attempts,
    sum(s.successes) as successes,
    sum(s.confidence * (s.successes + s.failures)) / sum(s.successes + s.failures)
        as mean_confidence
from confidence_outcomes as s
join ladder as l on l.name = s.tier
where s.confidence is not null
group by s.tier, l.rank, s.confidence_source, bin, bin_low, bin_high
order by l.rank, s.confidence_source, bin
