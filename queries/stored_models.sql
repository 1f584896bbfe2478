-- stored_models: every model id the store's calls name, for pricing each by its own price.
-- Grain: one row per distinct model. Parameters: none. Reads the rollup attempt_usage.
select distinct model
from attempt_usage
where model is not null
order by model
