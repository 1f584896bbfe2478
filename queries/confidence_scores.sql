-- confidence_scores: how well the stated confidence of executor attempts separates failures
-- from successes, and how saturated it is.
-- Grain: one row per executed tier x confidence source (attempts with a confidence), plus
-- the tier's executor attempts without one in `attempts_without_confidence`.
-- Reads temp table confidence_outcomes (queries/confidence_outcomes.sql: the selection and
-- what success means).
-- Success as in confidence_outcomes.
-- auroc: the probability that a random failed attempt states a lower confidence than a random
-- successful one, ties counting one half (the Mann-Whitney statistic); null when the group
-- has no failure or no success. high_share: share of confidences >= 0.8.
with ranked as (
    select
        *,
        coalesce(sum(failures) over (
            partition by tier, confidence_source order by confidence
            rows between unbounded preceding and 1 preceding
        ), 0) as failures_below
    from confidence_outcomes
    where confidence is not null
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
    select tier, sum(successes + failures) filter (where confidence is null)
        as attempts_without_confidence
    from confidence_outcomes
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
