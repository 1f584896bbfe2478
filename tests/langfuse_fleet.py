"""The planner -> executor -> reviewer fleet of tests/otel_fleet.py, instrumented with the
real Langfuse Python SDK (v3 and later emit OpenTelemetry spans with `langfuse.*`
attributes), run offline: the SDK's spans go to an in-memory exporter, never to a server.

A Langfuse fleet writes what it knows as observation metadata, the way its docs show:
tierwatch's routing keys on the executor's `agent` observation, the role on the planner's
and the reviewer's, and the reviewer's verdict (`tierwatch.verdict`) set on the executor's
run once the review is done (Langfuse scores go to its API, not into the spans). Usage and
cost are the generation's `usage_details` and `cost_details`; a rate-limited call is a
generation with `level="ERROR"`. `Fleet.truth` keeps what the simulation did.
"""

from __future__ import annotations

import random
import uuid

from otel_fleet import LADDER, MODELS, TYPES, Attempt, Fleet, Task

FLEET = "content"  # the Langfuse environment the fleet traces in


def price(tier: str, tokens: tuple[int, int]) -> float:
    """What the fleet logged as a call's cost: a made-up price per tier, so the store's
    cost can be checked against the fleet's own sum, not against tierwatch's prices."""
    per_million = {"haiku": (1.0, 5.0), "sonnet": (3.0, 15.0), "opus": (15.0, 75.0)}[tier]
    return (tokens[0] * per_million[0] + tokens[1] * per_million[1]) / 1e6


def simulate(
    jobs: int = 8, seed: int = 7, base_url: str | None = None, secret_key: str = "sk-lf-test"
) -> tuple[Fleet, dict[str, float]]:
    """The fleet, and the cost it logged per tier (executors' calls only). With `base_url`
    the SDK's own exporter also sends the spans there over OTLP/HTTP (as it would to a
    Langfuse server), with `secret_key` in its Basic authorization."""
    from langfuse import Langfuse
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    rng = random.Random(seed)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    kept = {"span_exporter": exporter}
    if base_url is not None:  # the SDK's exporter sends; a copy of each span is kept here
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        kept = {}
    # the SDK keeps one client per public key in a process: a key of its own per run
    lf = Langfuse(
        public_key=f"pk-lf-{uuid.uuid4().hex}",
        secret_key=secret_key,
        base_url=base_url or "http://127.0.0.1:9",  # without one nothing listens there
        environment=FLEET,
        tracer_provider=provider,
        **kept,
    )

    def generation(name: str, tier: str, tokens: tuple[int, int], error: bool = False):
        with lf.start_as_current_observation(
            as_type="generation", name=name, model=MODELS[tier]
        ) as g:
            g.update(
                usage_details={"input": tokens[0], "output": tokens[1]},
                cost_details={"total": price(tier, tokens)},
            )
            if error:
                g.update(level="ERROR", status_message="429 rate limited")

    truth: list[Task] = []
    cost: dict[str, float] = {}
    planner_calls = reviewer_calls = 0
    for j in range(jobs):
        with lf.start_as_current_observation(as_type="span", name=f"job-{j}"):
            with lf.start_as_current_observation(
                as_type="chain", name="plan", metadata={"tierwatch.role": "planner"}
            ):
                generation("plan", "sonnet", (1500, 300))
                planner_calls += 1
            for k, task_type in enumerate(rng.sample(sorted(TYPES), k=2)):
                planner_tier, reject_chance = TYPES[task_type]
                task = Task(f"lf-job-{j}-t{k}", task_type, planner_tier)
                rung = LADDER.index(planner_tier)
                while True:
                    tier = LADDER[rung]
                    tokens = (rng.randint(800, 2500), rng.randint(100, 600))
                    rejected = rng.random() < reject_chance[tier]
                    with lf.start_as_current_observation(
                        as_type="agent",
                        name="executor",
                        metadata={
                            "tierwatch.task.id": task.task_id,
                            "tierwatch.task.type": task_type,
                            "tierwatch.planner.tier": planner_tier,
                        },
                    ) as run:
                        with lf.start_as_current_observation(as_type="tool", name="fetch"):
                            pass
                        if rng.random() < 0.2:  # an HTTP-level retry inside the run
                            generation("answer", tier, (0, 0), error=True)
                        generation("answer", tier, tokens)
                        cost[tier] = cost.get(tier, 0.0) + price(tier, tokens)
                        with lf.start_as_current_observation(
                            as_type="agent",
                            name="reviewer",
                            metadata={
                                "tierwatch.role": "reviewer",
                                "tierwatch.task.id": task.task_id,
                            },
                        ):
                            generation("review", "sonnet", (900, 60))
                            reviewer_calls += 1
                        run.update(metadata={"tierwatch.verdict": "fail" if rejected else "pass"})
                    task.attempts.append(Attempt(tier, tokens[0], tokens[1], rejected))
                    if not rejected or rung == len(LADDER) - 1:
                        break
                    rung += 1
                truth.append(task)
    lf.flush()
    lf.shutdown()
    return Fleet(truth, planner_calls, reviewer_calls, list(exporter.get_finished_spans())), cost
