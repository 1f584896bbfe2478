"""A simulated planner -> executor -> reviewer fleet, instrumented with the real OpenTelemetry
SDK, for the source and receiver tests.

Each job is one trace: a planner call (a `plan` span), then for each subtask one
`invoke_agent executor` run per attempt (a tool call and a model call inside), each
reviewed by an `invoke_agent reviewer` run whose verdict is the standard
`gen_ai.evaluation.result` event on the executor's run. A rejected attempt is retried one
tier up. `Fleet.truth` keeps what the simulation did, so tests compare the store against
it, not against tierwatch's own output.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

MODELS = {
    "haiku": "claude-3-5-haiku-20241022",
    "sonnet": "claude-sonnet-4-5",
    "opus": "claude-opus-4-1",
}
LADDER = ("haiku", "sonnet", "opus")
# task type -> (planner tier, chance that an attempt on each tier is rejected)
TYPES = {
    "html_extraction": ("haiku", {"haiku": 0.1, "sonnet": 0.0, "opus": 0.0}),
    "relevance_classification": ("haiku", {"haiku": 0.5, "sonnet": 0.1, "opus": 0.0}),
    "draft_review": ("sonnet", {"haiku": 0.5, "sonnet": 0.2, "opus": 0.0}),
}
START_NS = 1_790_000_000 * 10**9  # 2026-09-21


@dataclass
class Attempt:
    tier: str
    input_tokens: int
    output_tokens: int
    rejected: bool


@dataclass
class Task:
    task_id: str
    task_type: str
    planner_tier: str
    attempts: list[Attempt] = field(default_factory=list)


@dataclass
class Fleet:
    truth: list[Task]
    planner_calls: int
    reviewer_calls: int
    spans: list  # the SDK's finished spans

    def request(self):
        """The spans as one OTLP ExportTraceServiceRequest (protobuf message)."""
        return encode_spans(self.spans)


def otlp_json(request) -> dict:
    """A request in OTLP/JSON as the specification writes it: ids in hex (protobuf's own
    JSON mapping writes them in base64)."""
    import base64

    from google.protobuf import json_format

    doc = json_format.MessageToDict(request)
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for span in ss["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64decode(span[key]).hex()
    return doc


def simulate(
    jobs: int = 12,
    seed: int = 42,
    with_task_ids: bool = True,
    processors: tuple = (),
    between_jobs=None,
    task_prefix: str = "",
) -> Fleet:
    """`processors`: more span processors (a BatchSpanProcessor exporting over OTLP/HTTP);
    `between_jobs()` is called after each job (one trace)."""
    rng = random.Random(seed)
    exporter = InMemorySpanExporter()
    provider = TracerProvider(
        resource=Resource.create({"service.name": "sim-fleet", "service.namespace": "content"})
    )
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    for processor in processors:
        provider.add_span_processor(processor)
    tracer = provider.get_tracer("tierwatch.tests.fleet")
    clock = [START_NS]

    def tick(seconds: float = 1.0) -> int:
        clock[0] += int(seconds * 1e9)
        return clock[0]

    def model_call(tier: str, tokens: tuple[int, int], error: bool = False) -> None:
        span = tracer.start_span(
            f"chat {MODELS[tier]}",
            start_time=tick(),
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "anthropic",
                "gen_ai.request.model": MODELS[tier],
                "gen_ai.usage.input_tokens": tokens[0],
                "gen_ai.usage.output_tokens": tokens[1],
            },
        )
        if error:
            span.set_status(Status(StatusCode.ERROR, "rate limited"))
        span.end(end_time=tick(0.5))

    truth: list[Task] = []
    planner_calls = reviewer_calls = 0
    for j in range(jobs):
        with tracer.start_as_current_span(
            f"invoke_workflow job-{j}",
            start_time=tick(),
            attributes={"gen_ai.operation.name": "invoke_workflow"},
            end_on_exit=False,
        ) as job:
            with tracer.start_as_current_span(
                "plan",
                start_time=tick(),
                attributes={"gen_ai.operation.name": "plan"},
                end_on_exit=False,
            ) as plan:
                model_call("sonnet", (1500, 300))
                planner_calls += 1
                plan.end(end_time=tick())
            for k, task_type in enumerate(rng.sample(sorted(TYPES), k=2)):
                planner_tier, reject_chance = TYPES[task_type]
                task = Task(f"{task_prefix}job-{j}-t{k}", task_type, planner_tier)
                rung = LADDER.index(planner_tier)
                while True:
                    tier = LADDER[rung]
                    tokens = (rng.randint(800, 2500), rng.randint(100, 600))
                    rejected = rng.random() < reject_chance[tier]
                    attrs = {
                        "gen_ai.operation.name": "invoke_agent",
                        "gen_ai.agent.name": "executor",
                        "tierwatch.planner.tier": planner_tier,
                        "tierwatch.task.type": task_type,
                    }
                    if with_task_ids:
                        attrs["tierwatch.task.id"] = task.task_id
                    with tracer.start_as_current_span(
                        "invoke_agent executor",
                        start_time=tick(),
                        attributes=attrs,
                        end_on_exit=False,
                    ) as run:
                        tool = tracer.start_span(
                            "execute_tool fetch",
                            start_time=tick(),
                            attributes={"gen_ai.operation.name": "execute_tool"},
                        )
                        tool.end(end_time=tick())
                        if rng.random() < 0.2:  # an HTTP-level retry inside the run
                            model_call(tier, (0, 0), error=True)
                        model_call(tier, tokens)
                        review_attrs = {
                            "gen_ai.operation.name": "invoke_agent",
                            "gen_ai.agent.name": "reviewer",
                            "tierwatch.role": "reviewer",
                        }
                        if with_task_ids:
                            review_attrs["tierwatch.task.id"] = task.task_id
                        with tracer.start_as_current_span(
                            "invoke_agent reviewer",
                            start_time=tick(),
                            attributes=review_attrs,
                            end_on_exit=False,
                        ) as review:
                            model_call("sonnet", (900, 60))
                            reviewer_calls += 1
                            review.end(end_time=tick())
                        run.add_event(
                            "gen_ai.evaluation.result",
                            attributes={
                                "gen_ai.evaluation.name": "review",
                                "gen_ai.evaluation.score.label": "fail" if rejected else "pass",
                            },
                            timestamp=tick(),
                        )
                        run.end(end_time=tick())
                    task.attempts.append(Attempt(tier, tokens[0], tokens[1], rejected))
                    if not rejected or rung == len(LADDER) - 1:
                        break
                    rung += 1
                truth.append(task)
            job.end(end_time=tick())
        if between_jobs is not None:
            between_jobs()
    provider.shutdown()
    return Fleet(truth, planner_calls, reviewer_calls, list(exporter.get_finished_spans()))
