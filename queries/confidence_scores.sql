-- confidence_scores: how well the stated confidence of executor attempts separates failures
-- from successes, and how saturated it is.
-- Grain: one row per executed tier x confidence source (attempts with a confidence), plus
-- the tier's executor attempts without one in `attempts_without_confidence`.
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all), as in
-- confidence_reliability; success is defined there too.
-- auroc: the probability that a random failed attempt states a lower confidence than a random
-- successful one, ties counting one half (the Mann-Whitney statistic); null when the group
-- has no failure or no success. high_share: share of confidences >= 0.8.
with selected as (
    select task_id, downstream_failure
    from tasks
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
),

executor_attempts as (
    select a.task_id, a.attempt, a.tier, a.confidence, a.confidence_source, a.status,
           s.downstream_failure
    from attempts as a
    join selected as s using (task_id)
    where a.role = 'executor'
),

accepted as (
    select task_id, max(attempt) as attempt
    from executor_attempts
    group by task_id
),

scored as (
    select
        e.tier,
        coalesce(e.confidence_source, '(not given)') as confidence_source,
        e.confidence,
        (e.status = 'ok' and not (e.downstream_failure and e.attempt = acc.attempt)) as success
    from executor_attempts as e
    join accepted as acc using (task_id)
    where e.confidence is not null
),

-- one row per distinct confidence value: the pairs a value's successes win are the failures
-- at lower values, plus half the failures at the same value
by_value as (
    select
        tier,
        confidence_source,
        confidence,
        count(*) filter (where success) as successes,
        count(*) filter (where not success) as failures
    from scored
    group by tier, confidence_source, confidence
),

ranked as (
    select
        *,
        coalesce(sum(failures) over (
            partition by tier, confidence_source order by confidence
            rows between unbounded preceding and 1 preceding
        ), 0) as failures_below
    from by_value
),

pairs as (
    select
        tier,
        confidence_source,
        sum(successes * failures_below + 0.5 * successes * failures) as concordant,
        sum(successes) as successes,
        sum(failures) as failures
    from ranked
    group by tier, confidence_source
),

moments as (
    select
        tier,
        confidence_source,
        count(*) as attempts,
        avg(confidence) as mean_confidence,
        avg(case when success then 1.0 else 0.0 end) as success_rate,
        avg(power(confidence - case when success then 1.0 else 0.0 end, 2)) as brier,
        avg(case when confidence >= 0.8 then 1.0 else 0.0 end) as high_share
    from scored
    group by tier, confidence_source
),

without_confidence as (
    select tier, count(*) filter (where confidence is null) as attempts_without_confidence
    from executor_attempts
    group by tier
)

select
    m.tier,
    l.rank as tier_rank,
    m.confidence_source,
    m.attempts,
    p.successes,
    p.failures,
    m.mean_confidence,
    m.success_rate,
    m.brier,
    case
        when p.successes = 0 or p.failures = 0 then null
        else p.concordant / (p.successes * p.failures)
    end as auroc,
    m.high_share,
    coalesce(w.attempts_without_confidence, 0) as attempts_without_confidence
from moments as m
join pairs as p using (tier, confidence_source)
join ladder as l on l.name = m.tier
left join without_confidence as w using (tier)
order by l.rank, m.confidence_source
