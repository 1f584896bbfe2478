-- stored_models: every model id the store's attempts name, for pricing each by its own price.
-- Grain: one row per distinct model. Parameters: none.
select distinct model
from attempts
where model is not null
order by model
