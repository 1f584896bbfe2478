"""LiteLLM itself, offline (`mock_response`), with its own OpenTelemetry callback pointed at
a running `tierwatch collect`: LiteLLM -> tierwatch with nothing in between.

    python tests/litellm_send.py URL CALLS

Prints, per call, what LiteLLM's own response said (model, tokens, cost) as JSON lines.
"""

from __future__ import annotations

import json
import os
import sys

os.environ["OTEL_EXPORTER"] = "otlp_http"
os.environ["OTEL_ENDPOINT"] = sys.argv[1]
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # offline: the map inside the wheel

import litellm  # noqa: E402
from opentelemetry import trace  # noqa: E402

litellm.callbacks = ["otel"]
for i in range(int(sys.argv[2])):
    r = litellm.completion(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": f"classify item {i}"}],
        mock_response="relevant",
    )
    print(
        json.dumps(
            {
                "model": r.model,
                "input_tokens": r.usage.prompt_tokens,
                "output_tokens": r.usage.completion_tokens,
                "cost": r._hidden_params.get("response_cost"),
            }
        )
    )
provider = trace.get_tracer_provider()
assert provider.force_flush(30_000), "LiteLLM's spans were not all exported"
