-- confidence_scores: how well the stated confidence of executor attempts separates failures
-- from successes, and how saturated it is.
-- Grain: one row per executed tier x confidence source (attempts with a confidence), plus
-- the tier's executor attempts without one in `attempts_without_confidence`.
-- Parameters: $since, $until (inclusive, on each attempt's UTC date), $fleets, $task_types
-- (on each attempt's own fields; empty = all). Needs queries.rollups.register.
-- Success as in confidence_reliability.
-- auroc: the probability that a random failed attempt states a lower confidence than a random
-- successful one, ties counting one half (the Mann-Whitney statistic); null when the group
-- has no failure or no success. high_share: share of confidences >= 0.8.
with everything as (
    select cast($since as date) is null
      and cast($until as date) is null
      and len(cast($fleets as varchar[])) = 0
      and len(cast($task_types as varchar[])) = 0 as yes
),

-- the whole store from the totals, a selection from the daily rows
selected as (
    select tier, confidence_source, confidence, ok, attempts
    from executor_confidence_totals
    where (select yes from everything)
    union all
    select tier, confidence_source, confidence, ok, attempts
    from executor_confidence_values
    where not (select yes from everything)
      and (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
),

accepted_wrong as (
    select tier, confidence_source, confidence, sum(attempts) as attempts
    from accepted_wrong_values
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
    group by all
),

by_value as (
    select
        tier,
        confidence_source,
        confidence,
        coalesce(sum(attempts) filter (where ok), 0) as ok_attempts,
        coalesce(sum(attempts) filter (where not ok), 0) as not_ok_attempts
    from selected
    where confidence is not null
    group by tier, confidence_source, confidence
),

-- one row per distinct confidence value: the pairs a value's successes win are the failures
-- at lower values, plus half the failures at the same value
scored as (
    select
        v.tier,
        v.confidence_source,
        v.confidence,
        v.ok_attempts - least(coalesce(w.attempts, 0), v.ok_attempts) as successes,
        v.not_ok_attempts + least(coalesce(w.attempts, 0), v.ok_attempts) as failures
    from by_value as v
    left join accepted_wrong as w using (tier, confidence_source, confidence)
),

ranked as (
    select
        *,
        coalesce(sum(failures) over (
            partition by tier, confidence_source order by confidence
            rows between unbounded preceding and 1 preceding
        ), 0) as failures_below
    from scored
),

groups as (
    select
        tier,
        confidence_source,
        sum(successes + failures) as attempts,
        sum(successes) as successes,
        sum(failures) as failures,
        sum(successes * failures_below + 0.5 * successes * failures) as concordant,
        sum(confidence * (successes + failures)) as sum_confidence,
        sum(successes * power(confidence - 1, 2) + failures * power(confidence, 2)) as sum_sq,
        sum(successes + failures) filter (where confidence >= 0.8) as high
    from ranked
    group by tier, confidence_source
),

without_confidence as (
    select tier, sum(attempts) filter (where confidence is null) as attempts_without_confidence
    from selected
    group by tier
)

select
    g.tier,
    l.rank as tier_rank,
    g.confidence_source,
    g.attempts,
    g.successes,
    g.failures,
    g.sum_confidence / g.attempts as mean_confidence,
    g.successes / g.attempts as success_rate,
    g.sum_sq / g.attempts as brier,
    case
        when g.successes = 0 or g.failures = 0 then null
        else g.concordant / (g.successes * g.failures)
    end as auroc,
    coalesce(g.high, 0) / g.attempts as high_share,
    coalesce(w.attempts_without_confidence, 0) as attempts_without_confidence
from groups as g
join ladder as l on l.name = g.tier
left join without_confidence as w using (tier)
order by l.rank, g.confidence_source
