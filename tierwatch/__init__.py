"""tierwatch: observability for model-tier routing in LLM agent fleets."""
