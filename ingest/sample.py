"""A deterministic simulated agent fleet in log format v1, with one planted case of each
routing failure mode: the sample data behind `tierwatch sample` and `sample_data/`.

The fleet is the article's plan-and-execute shape: every plan starts with one planner call
(Sonnet) that assigns a tier to each subtask, executors run the subtasks on that tier, a
reviewer (Sonnet; Opus for the legal fleet) checks doubtful outputs, and a rejected or
errored attempt is retried one tier up (graduated escalation) or on the same tier. What is
planted, and which analysis should find it, is in docs/sample-data.md; the numbers are the
constants below.

Determinism: everything comes from one `random.Random(seed)` through `random()` alone (the
one method Python promises to keep stable across versions) and `+`/`*` on its results, so
no libm call can differ between platforms; no wall clock, no hash order, and gzip headers
carry mtime 0. The same arguments give the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tierwatch.ingest import load
from tierwatch.ingest.config import DEFAULT_TIERS, Config

DEFAULT_START = dt.date(2026, 9, 1)

HAIKU_MODEL = "claude-3-5-haiku-20241022"
SONNET_MODEL_BEFORE = "claude-sonnet-4-20250514"
SONNET_MODEL_AFTER = "claude-sonnet-4-5-20250929"
OPUS_MODEL = "claude-opus-4-1-20250805"
LADDER = ("haiku", "sonnet", "opus")

# --- The planted failure modes (docs/sample-data.md has the table) -------------------------
# Staleness (mode 1): the Sonnet model changes on the 16th day; from then on
# segment_classification goes wrong on Sonnet 25% of the time instead of 5%.
MODEL_UPDATE_DAY = 15  # 0-based day index: the 16th day of the sample
# Silent underestimation (mode 2): an accepted Haiku answer to company_name_extraction with
# confidence >= 0.85 is found wrong downstream 8% of the time (3% below 0.85).
SILENT_CONFIDENCE = 0.85
SILENT_WRONG_HIGH = 0.08
SILENT_WRONG_LOW = 0.03
SILENT_HIGH_SHARE = 0.90  # share of its accepted answers that say >= 0.85
# Cascade over-routing (mode 3): 15% of feature_extraction's Haiku attempts are found
# inconsistent by the next step, which escalates them straight to Opus.
SKIP_TIER_TASK_TYPE = "feature_extraction"
SKIP_TIER_RATE = 0.15
# Planner overconfidence (mode 4): relevance_classification is assigned Haiku on 70% of
# tasks, where it is rejected 30% of the time and accepted-but-wrong 14% of the time.
OVERCONFIDENT_TASK_TYPE = "relevance_classification"
OVERCONFIDENT_HAIKU_SHARE = 0.70
# Over-routing: status_check always goes to Opus; it fails only by the odd errored call.
OVER_ROUTED_TASK_TYPE = "status_check"

# Every task's planner_tier is left out of the log on this share of tasks (a logging gap),
# so "(not given)" has rows in every analysis.
PLANNER_TIER_MISSING = 0.02
# Reviewer calls: every rejected attempt, every accepted one under this confidence (the
# article: low-confidence outputs go to the reviewer), and a small random spot check of the
# rest (legal reviews every clause). The reviewer checks the output: it reads its rubric and
# the output under review, not the executor's whole input, and answers in a few words. It
# runs on Sonnet; the legal fleet's on Opus (high stakes).
REVIEW_BELOW_CONFIDENCE = 0.60
REVIEW_SAMPLE = 0.02
REVIEW_PROMPT_TOKENS = 300
REVIEW_OUTPUT_TOKENS = 80
# The planner call (Sonnet): its prompt and the work to split, plus a line per subtask (tier
# and a short justification) in its output.
PLANNER_INPUT_TOKENS = (2000, 40)  # base + per subtask
PLANNER_OUTPUT_TOKENS = (100, 25)
MAX_EXECUTOR_ATTEMPTS = 4
# Plans start in the first 22 hours of a day, so no plan's calls cross into the next day.
PLAN_START_WINDOW_MS = 22 * 3600 * 1000


class SampleError(OSError):
    """The sample could not be written; the message names the path and what to do."""


@dataclass(frozen=True)
class Rates:
    """What one executor attempt does, as probabilities that add up to at most 1."""

    error: float  # the call errors (status error); retried on the same tier
    reject: float  # the reviewer rejects the output (status failed); escalated one tier up
    wrong: float  # accepted, and later found wrong downstream


# Attempts on a tier above the one the planner chose (escalations) do about this well.
ESCALATED_RATES = {
    "sonnet": Rates(error=0.005, reject=0.03, wrong=0.005),
    "opus": Rates(error=0.005, reject=0.02, wrong=0.003),
}


@dataclass(frozen=True)
class TaskType:
    name: str
    tier: str  # the tier the planner assigns (relevance_classification: see mode 4)
    input_tokens: int  # mean per attempt
    output_tokens: int
    rates: dict[str, Rates]  # by tier; other tiers use ESCALATED_RATES
    detected_by: str  # the step that reports its wrong outputs downstream
    # Confidence of wrong-but-accepted outputs. Wrong answers of the planted modes 1 and 4
    # stay below 0.8 so that they do not count as silent failures.
    wrong_confidence: tuple[float, float] = (0.45, 0.82)


def _r(error: float, reject: float, wrong: float) -> Rates:
    return Rates(error=error, reject=reject, wrong=wrong)


TASK_TYPES: dict[str, TaskType] = {
    t.name: t
    for t in (
        # content pipeline
        TaskType("html_extraction", "haiku", 3000, 1000, {"haiku": _r(0.01, 0.03, 0.003)},
                 "relevance_classification"),
        TaskType("relevance_classification", "haiku", 1200, 200,
                 {"haiku": _r(0.005, 0.30, 0.14), "sonnet": _r(0.005, 0.04, 0.035)},
                 "draft_generation", wrong_confidence=(0.45, 0.78)),
        TaskType("draft_generation", "sonnet", 4000, 1800, {"sonnet": _r(0.01, 0.05, 0.01)},
                 "draft_review"),
        TaskType("draft_review", "sonnet", 3500, 500, {"sonnet": _r(0.005, 0.04, 0.01)},
                 "publish_gate"),
        TaskType("publish_gate", "opus", 2500, 250, {"opus": _r(0.005, 0.05, 0.005)},
                 "editor"),
        # competitive research
        TaskType("company_name_extraction", "haiku", 2000, 420,
                 {"haiku": _r(0.005, 0.04, 0.0)},  # wrong: by confidence, see mode 2
                 "segment_classification"),
        TaskType("feature_extraction", "haiku", 1100, 300,
                 {"haiku": _r(0.01, 0.0, 0.003)},  # its failures: see mode 3
                 "theme_identification"),
        TaskType("segment_classification", "sonnet", 2500, 400,
                 {"sonnet": _r(0.005, 0.04, 0.01)},  # from the model update: see mode 1
                 "theme_identification", wrong_confidence=(0.45, 0.78)),
        TaskType("theme_identification", "sonnet", 4000, 900, {"sonnet": _r(0.005, 0.04, 0.01)},
                 "executive_summary"),
        TaskType("executive_summary", "sonnet", 4500, 1500, {"sonnet": _r(0.01, 0.05, 0.01)},
                 "summary_review"),
        TaskType("summary_review", "sonnet", 4000, 500, {"sonnet": _r(0.005, 0.03, 0.01)},
                 "client_feedback"),
        # ops
        TaskType("status_check", "opus", 600, 10, {"opus": _r(0.003, 0.0, 0.0)}, "on_call"),
        # legal
        TaskType("contract_clause_risk", "opus", 3000, 600, {"opus": _r(0.005, 0.06, 0.02)},
                 "counsel"),
    )
}  # fmt: skip
# After the model update segment_classification on Sonnet: 15% rejected + 10% wrong = 25%
# (before: 4% + 1% = 5%).
STALE_RATES = _r(0.005, 0.15, 0.10)


@dataclass(frozen=True)
class Fleet:
    """A fleet: its plans' shape, its share of the day's executor tasks, how it logs."""

    name: str
    share: float  # of tasks_per_day
    # (task type, min, max tasks per plan); None, None: as many as the first stage
    stages: tuple[tuple[str, int | None, int | None], ...]
    confidence_source: str
    # logging habits, so the sample exercises every path of the format
    confidence_words: bool = False  # high / medium / low instead of numbers
    logs_cost: bool = False  # cost_usd on every record
    logs_tier: bool = True  # False: `tier` left out, inferred from `model`
    inline_downstream: bool = False  # downstream_failure on the accepted attempt
    cached_prompt: int = 0  # cached_input_tokens on a cache hit (85% of executor calls)
    reviewer_tier: str = "sonnet"
    extra: tuple[tuple[str, str], ...] = ()  # fields the format does not know

    @property
    def mean_plan_size(self) -> float:
        _, first_lo, first_hi = self.stages[0]
        return sum(
            (first_lo + first_hi) / 2 if lo is None else (lo + hi) / 2 for _, lo, hi in self.stages
        )


FLEETS: tuple[Fleet, ...] = (
    Fleet(
        "content",
        share=0.50,
        stages=(
            ("html_extraction", 16, 24),
            ("relevance_classification", None, None),  # one per extracted page
            ("draft_generation", 1, 1),
            ("draft_review", 1, 1),
            ("publish_gate", 1, 1),
        ),
        confidence_source="self_report",
        cached_prompt=512,
        extra=(("prompt_version", "content-v3"),),
    ),
    Fleet(
        "research",
        share=0.45,
        stages=(
            ("company_name_extraction", 16, 24),  # one per source URL
            ("feature_extraction", 8, 16),  # one per distinct company found
            ("segment_classification", 2, 3),
            ("theme_identification", 1, 1),
            ("executive_summary", 1, 1),
            ("summary_review", 1, 1),
        ),
        confidence_source="logprob",
    ),
    Fleet(
        "ops",
        share=0.04,
        stages=(("status_check", 3, 7),),
        confidence_source="self_report",
        confidence_words=True,
    ),
    Fleet(
        "legal",
        share=0.01,
        stages=(("contract_clause_risk", 3, 5),),
        confidence_source="self_report",
        logs_cost=True,
        logs_tier=False,
        inline_downstream=True,
        reviewer_tier="opus",
    ),
)

CSV_FLEET = "ops"
CSV_COLUMNS = (
    "task_id", "ts", "task_type", "tier", "planner_tier", "role", "attempt", "model",
    "input_tokens", "output_tokens", "confidence", "confidence_source", "status",
    "escalation_reason", "fleet", "plan_id", "agent", "latency_ms",
)  # fmt: skip
# How each fleet writes `ts`: RFC 3339 with Z, RFC 3339 without offset (UTC), epoch seconds.
TS_STYLE = {"content": "z", "research": "z", "ops": "naive", "legal": "epoch"}
# Latency per call: base milliseconds + per output token, by tier.
LATENCY = {"haiku": (400, 4), "sonnet": (900, 12), "opus": (2000, 30)}
PRICES = {t["name"]: (t["input_usd_per_mtok"], t["output_usd_per_mtok"]) for t in DEFAULT_TIERS}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class _Draw:
    """Random draws from `random()` alone, combined with + and * only (see module doc)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed).random

    def chance(self, p: float) -> bool:
        return self._random() < p

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self._random()

    def integer(self, lo: int, hi: int) -> int:
        """lo..hi inclusive."""
        return lo + int(self._random() * (hi - lo + 1))

    def around(self, mean: float, spread: float) -> float:
        """mean * (1 + spread * x), x in [-1, 1] bell-shaped (sum of three uniforms)."""
        x = (self._random() + self._random() + self._random() - 1.5) / 1.5
        return mean * (1 + spread * x)


@dataclass
class _Plan:
    fleet: Fleet
    plan_id: str
    day: int
    start_ms: int


def sonnet_model(day: int) -> str:
    """The Sonnet model in use on day `day` (0-based) of the sample."""
    return SONNET_MODEL_AFTER if day >= MODEL_UPDATE_DAY else SONNET_MODEL_BEFORE


def _model(tier: str, day: int) -> str:
    if tier == "haiku":
        return HAIKU_MODEL
    if tier == "sonnet":
        return sonnet_model(day)
    return OPUS_MODEL


def _rates(task_type: TaskType, tier: str, day: int) -> Rates:
    if task_type.name == "segment_classification" and tier == "sonnet" and day >= MODEL_UPDATE_DAY:
        return STALE_RATES
    return task_type.rates.get(tier) or ESCALATED_RATES[tier]


def _next_tier(tier: str) -> str:
    """Graduated escalation: one tier up (Opus retries on Opus)."""
    return LADDER[min(LADDER.index(tier) + 1, len(LADDER) - 1)]


class _Simulation:
    def __init__(self, seed: int, start: dt.date) -> None:
        self.draw = _Draw(seed)
        self.start = start
        self.start_ms = int((dt.datetime(start.year, start.month, start.day, tzinfo=dt.UTC)
                             - _EPOCH).total_seconds()) * 1000  # fmt: skip
        self.records: dict[str, list[tuple[tuple, dict]]] = {f.name: [] for f in FLEETS}
        self.downstream: list[tuple[tuple, dict]] = []

    # --- one call ---------------------------------------------------------------------
    def _latency(self, tier: str, output_tokens: int) -> int:
        base, per_token = LATENCY[tier]
        return int(self.draw.around(base + per_token * output_tokens, 0.4))

    def _emit(self, plan: _Plan, ts_ms: int, fields: dict) -> None:
        fleet = plan.fleet
        record: dict = {"task_id": fields.pop("task_id"), "ts": ts_ms}
        record.update(fields)
        if not fleet.logs_tier:
            del record["tier"]
        if fleet.logs_cost:
            price_in, price_out = PRICES[fields["tier"]]
            cost = (record["input_tokens"] * price_in + record["output_tokens"] * price_out) / 1e6
            record["cost_usd"] = round(cost, 6)
        record["fleet"] = fleet.name
        record["plan_id"] = plan.plan_id
        role_order = {"planner": 0, "executor": 1, "reviewer": 2}[record["role"]]
        key = (ts_ms, record["task_id"], role_order, record["attempt"])
        self.records[fleet.name].append((key, record))

    def _planner_call(self, plan: _Plan, subtasks: int) -> int:
        base_in, per_in = PLANNER_INPUT_TOKENS
        base_out, per_out = PLANNER_OUTPUT_TOKENS
        in_tokens = int(self.draw.around(base_in + per_in * subtasks, 0.2))
        out_tokens = int(self.draw.around(base_out + per_out * subtasks, 0.2))
        latency = self._latency("sonnet", out_tokens)
        self._emit(plan, plan.start_ms, {
            "task_id": f"{plan.plan_id}/plan", "task_type": "planning", "tier": "sonnet",
            "role": "planner", "attempt": 1, "model": sonnet_model(plan.day),
            "input_tokens": in_tokens, "output_tokens": out_tokens, "status": "ok",
            "agent": f"{plan.fleet.name}-planner", "latency_ms": latency,
        })  # fmt: skip
        return plan.start_ms + latency

    def _review_call(self, plan, task_id, task_type, n, ts_ms, reviewed_output) -> int:
        tier = plan.fleet.reviewer_tier
        in_tokens = REVIEW_PROMPT_TOKENS + reviewed_output
        out_tokens = max(1, int(self.draw.around(REVIEW_OUTPUT_TOKENS, 0.5)))
        latency = self._latency(tier, out_tokens)
        self._emit(plan, ts_ms, {
            "task_id": task_id, "task_type": task_type, "tier": tier, "role": "reviewer",
            "attempt": n, "model": _model(tier, plan.day), "input_tokens": in_tokens,
            "output_tokens": out_tokens, "status": "ok",
            "agent": f"{plan.fleet.name}-reviewer", "latency_ms": latency,
        })  # fmt: skip
        return ts_ms + latency

    # --- one task: its chain of executor attempts, reviews, and outcome -------------------
    def _confidence_ok(self, task_type: str) -> float:
        if task_type == OVER_ROUTED_TASK_TYPE:
            high = self.draw.chance(0.98)
            return self.draw.uniform(0.90, 0.99) if high else self.draw.uniform(0.60, 0.80)
        if self.draw.chance(0.88):
            return self.draw.uniform(0.80, 0.99)
        return self.draw.uniform(0.55, 0.80)

    def _outcome(self, task_type: TaskType, tier: str, day: int) -> tuple[str, float | None]:
        """(kind, confidence) of one executor attempt; kind in ok, wrong, rejected,
        inconsistent, error."""
        rates = _rates(task_type, tier, day)
        u = self.draw.uniform(0, 1)  # walked down the bands error, rejected, ... below
        if u < rates.error:
            return "error", None
        u -= rates.error
        if u < rates.reject:
            return "rejected", self.draw.uniform(0.15, 0.70)
        u -= rates.reject
        if task_type.name == SKIP_TIER_TASK_TYPE and tier == "haiku":
            # mode 3: a confident Haiku answer the next step finds inconsistent
            if u < SKIP_TIER_RATE:
                return "inconsistent", self.draw.uniform(0.80, 0.97)
            u -= SKIP_TIER_RATE
        if task_type.name == "company_name_extraction" and tier == "haiku":
            # mode 2: wrong answers that look as confident as right ones
            if self.draw.chance(SILENT_HIGH_SHARE):
                confidence = self.draw.uniform(SILENT_CONFIDENCE, 0.99)
                wrong = self.draw.chance(SILENT_WRONG_HIGH)
            else:
                confidence = self.draw.uniform(0.60, SILENT_CONFIDENCE)
                wrong = self.draw.chance(SILENT_WRONG_LOW)
            return ("wrong" if wrong else "ok"), confidence
        if u < rates.wrong:
            return "wrong", self.draw.uniform(*task_type.wrong_confidence)
        return "ok", self._confidence_ok(task_type.name)

    def _planner_tier(self, task_type: TaskType) -> str:
        if task_type.name == OVERCONFIDENT_TASK_TYPE:
            return "haiku" if self.draw.chance(OVERCONFIDENT_HAIKU_SHARE) else "sonnet"
        return task_type.tier

    def _task(self, plan: _Plan, task_type: TaskType, task_id: str, ts_ms: int) -> int:
        fleet = plan.fleet
        tier = self._planner_tier(task_type)
        planner_tier = None if self.draw.chance(PLANNER_TIER_MISSING) else tier
        agent = f"{fleet.name}-executor-{self.draw.integer(1, 3)}"
        base_in = max(50, int(self.draw.around(task_type.input_tokens, 0.5)))
        base_out = max(1, int(self.draw.around(task_type.output_tokens, 0.6)))
        reason = None
        reviews = 0
        for attempt in range(1, MAX_EXECUTOR_ATTEMPTS + 1):
            kind, confidence = self._outcome(task_type, tier, plan.day)
            in_tokens = base_in if attempt == 1 else int(self.draw.around(base_in, 0.05))
            out_tokens = 0 if kind == "error" else max(1, int(self.draw.around(base_out, 0.15)))
            latency = (
                self.draw.integer(1000, 30000)
                if kind == "error"
                else self._latency(tier, out_tokens)
            )
            status = {"error": "error", "rejected": "failed", "inconsistent": "failed"}.get(
                kind, "ok"
            )
            fields: dict = {"task_id": task_id, "task_type": task_type.name, "tier": tier}
            if planner_tier is not None:
                fields["planner_tier"] = planner_tier
            fields.update(role="executor", attempt=attempt, model=_model(tier, plan.day))
            fields.update(input_tokens=in_tokens, output_tokens=out_tokens)
            if fleet.cached_prompt and self.draw.chance(0.85):
                fields["cached_input_tokens"] = min(fleet.cached_prompt, in_tokens)
            if confidence is not None:
                confidence = round(confidence, 2)
                fields["confidence"] = _word(confidence) if fleet.confidence_words else confidence
                fields["confidence_source"] = fleet.confidence_source
            fields["status"] = status
            if reason is not None:
                fields["escalation_reason"] = reason
            final = status == "ok" or attempt == MAX_EXECUTOR_ATTEMPTS
            if fleet.inline_downstream and final and status == "ok":
                fields["downstream_failure"] = kind == "wrong"
            fields.update(agent=agent, latency_ms=latency)
            fields.update(dict(fleet.extra))
            self._emit(plan, ts_ms, fields)
            ts_ms += latency + self.draw.integer(50, 500)

            reviewed = kind == "rejected" or (
                kind in ("ok", "wrong")
                and (
                    fleet.inline_downstream  # legal: every clause is reviewed
                    or confidence < REVIEW_BELOW_CONFIDENCE
                    or self.draw.chance(REVIEW_SAMPLE)
                )
            )
            if reviewed:
                reviews += 1
                ts_ms = self._review_call(
                    plan, task_id, task_type.name, reviews, ts_ms, out_tokens
                ) + self.draw.integer(50, 500)

            if kind == "wrong" and not fleet.inline_downstream:
                found = ts_ms + self.draw.integer(60_000, 3 * 3600 * 1000)
                self.downstream.append(((found, task_id), {
                    "record": "downstream_failure", "task_id": task_id, "ts": found,
                    "detected_by": task_type.detected_by,
                }))  # fmt: skip
            if status == "ok":
                break
            if kind == "error":
                reason = "error"  # the same tier again
            elif kind == "inconsistent":
                reason, tier = "downstream_inconsistency", "opus"  # mode 3: skips Sonnet
            else:
                reason = "low_confidence" if confidence < 0.5 else "reviewer_reject"
                tier = _next_tier(tier)
        return ts_ms

    # --- one plan ---------------------------------------------------------------------
    def plan(self, plan: _Plan) -> None:
        counts = []
        for task_type, lo, hi in plan.fleet.stages:
            counts.append((task_type, counts[0][1] if lo is None else self.draw.integer(lo, hi)))
        ts_ms = self._planner_call(plan, sum(n for _, n in counts))
        for task_type, n in counts:
            # a stage's tasks run side by side; the next stage starts when all are done
            stage_end = ts_ms
            for i in range(1, n + 1):
                task_id = f"{plan.plan_id}/{task_type}-{i:02d}"
                started = ts_ms + self.draw.integer(0, 2000)
                stage_end = max(
                    stage_end, self._task(plan, TASK_TYPES[task_type], task_id, started)
                )
            ts_ms = stage_end + self.draw.integer(100, 1000)

    def run(self, days: int, tasks_per_day: int) -> None:
        # Plans per day follow each fleet's share through a running total, rounded up:
        # the sample holds tasks_per_day * days tasks plus at most one plan per fleet, and
        # every fleet has a plan on the first day however small tasks_per_day is.
        planned = {f.name: 0.0 for f in FLEETS}
        made = {f.name: 0 for f in FLEETS}
        for day in range(days):
            plans: list[_Plan] = []
            date = dt.date.fromordinal(self.start.toordinal() + day)
            for fleet in FLEETS:
                planned[fleet.name] += tasks_per_day * fleet.share / fleet.mean_plan_size
                starts = []
                while made[fleet.name] < planned[fleet.name]:
                    made[fleet.name] += 1
                    starts.append(self.day_ms(day) + self.draw.integer(0, PLAN_START_WINDOW_MS - 1))
                for n, start in enumerate(sorted(starts), start=1):
                    plans.append(_Plan(fleet, f"{fleet.name}-{date:%Y%m%d}-{n:03d}", day, start))
            for plan in plans:
                self.plan(plan)

    def day_ms(self, day: int) -> int:
        return self.start_ms + day * 86_400_000


def _word(confidence: float) -> str:
    return "high" if confidence >= 0.8 else "medium" if confidence >= 0.5 else "low"


def _format_ts(ts_ms: int, style: str) -> str | float:
    if style == "epoch":
        return ts_ms / 1000
    moment = _EPOCH + dt.timedelta(milliseconds=ts_ms)
    text = f"{moment:%Y-%m-%dT%H:%M:%S}.{ts_ms % 1000:03d}"
    return text + "Z" if style == "z" else text


def _jsonl_gz(path: Path, records: list[dict]) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        for record in records:
            gz.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())
            gz.write(b"\n")
    path.write_bytes(buffer.getvalue())


def _csv(path: Path, records: list[dict]) -> None:
    text = io.StringIO()
    # an absent field is an empty cell; a field CSV_COLUMNS lacks raises, never drops
    writer = csv.DictWriter(text, CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    path.write_bytes(text.getvalue().encode("utf-8"))


def _unwritable(out: Path, e: OSError) -> SampleError:
    return SampleError(
        f"cannot write the sample into {out}: {e.strerror or e}; "
        "choose a writable folder with --out"
    )


def write_sample(
    out_dir: str | Path,
    days: int = 30,
    tasks_per_day: int = 500,
    seed: int = 7,
    start: dt.date = DEFAULT_START,
) -> list[Path]:
    """Write the simulated fleet's logs into `out_dir` and return the files written.

    One file per fleet (`content.jsonl.gz`, `research.jsonl.gz`, `legal.jsonl.gz`,
    `ops.csv`) and `downstream_failures.jsonl.gz` with the failures reported later.
    Existing files of those names are replaced; nothing else in `out_dir` is touched.
    The same arguments always give the same bytes.
    """
    if days < 1 or tasks_per_day < 1:
        raise ValueError("days and tasks_per_day must be >= 1")
    simulation = _Simulation(seed, start)
    simulation.run(days, tasks_per_day)

    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for fleet in FLEETS:
            style = TS_STYLE[fleet.name]
            records = [r for _, r in sorted(simulation.records[fleet.name], key=lambda kr: kr[0])]
            for record in records:
                record["ts"] = _format_ts(record["ts"], style)
            if fleet.name == CSV_FLEET:
                path = out / f"{fleet.name}.csv"
                _csv(path, records)
            else:
                path = out / f"{fleet.name}.jsonl.gz"
                _jsonl_gz(path, records)
            written.append(path)
        downstream = [r for _, r in sorted(simulation.downstream, key=lambda kr: kr[0])]
        for record in downstream:
            record["ts"] = _format_ts(record["ts"], "z")
        path = out / "downstream_failures.jsonl.gz"
        _jsonl_gz(path, downstream)
        written.append(path)
    except OSError as e:
        raise _unwritable(out, e) from None
    return sorted(written)


# --- the same fleet as OpenTelemetry traces --------------------------------------------------

OTLP_FILE = "fleet.otlp.json.gz"


def _otlp_id(text: str, hex_digits: int) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()[:hex_digits]


def _otlp_value(v) -> dict:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": str(v)}


def _otlp_attrs(attrs: dict) -> list[dict]:
    return [{"key": k, "value": _otlp_value(v)} for k, v in attrs.items() if v is not None]


# v1 field -> the attribute of tierwatch's convention that carries it (docs/sources.md)
_ROUTING_ATTRIBUTES = {
    "task_id": "tierwatch.task.id",
    "task_type": "tierwatch.task.type",
    "role": "tierwatch.role",
    "attempt": "tierwatch.attempt",
    "tier": "tierwatch.tier",
    "planner_tier": "tierwatch.planner.tier",
    "confidence": "tierwatch.confidence",
    "confidence_source": "tierwatch.confidence.source",
    "escalation_reason": "tierwatch.escalation.reason",
    "downstream_failure": "tierwatch.downstream_failure",
    "plan_id": "tierwatch.plan.id",
}


def _otlp_plan(plan_id: str, records: list[dict], reported: set[str]) -> dict:
    """One plan as one OTLP/JSON export request: a workflow span, and per attempt an
    `invoke_agent` run carrying the routing attributes with its model call inside."""
    trace_id = _otlp_id(plan_id, 32)
    root_id = _otlp_id(f"{plan_id}/workflow", 16)
    last_executor = {}
    for r in records:
        if r["role"] == "executor":
            last_executor[r["task_id"]] = r["attempt"]
    spans = []
    for r in records:
        start = r["ts"] * 1_000_000
        end = (r["ts"] + r["latency_ms"]) * 1_000_000
        key = f"{r['task_id']}/{r['role']}/{r['attempt']}"
        run_id, call_id = _otlp_id(f"{key}/run", 16), _otlp_id(f"{key}/call", 16)
        routing = {attr: r.get(name) for name, attr in _ROUTING_ATTRIBUTES.items()}
        if (
            r["task_id"] in reported
            and r["role"] == "executor"
            and r["attempt"] == last_executor[r["task_id"]]
        ):
            routing["tierwatch.downstream_failure"] = True  # reported later, in v1
        run = {
            "traceId": trace_id,
            "spanId": run_id,
            "parentSpanId": root_id,
            "name": f"invoke_agent {r['agent']}",
            "kind": 1,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(end),
            "attributes": _otlp_attrs(
                {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": r["agent"]} | routing
            ),
        }
        if r["status"] == "failed":  # a reviewer's (or the next step's) verdict
            run["events"] = [
                {
                    "name": "gen_ai.evaluation.result",
                    "timeUnixNano": str(end),
                    "attributes": _otlp_attrs({"gen_ai.evaluation.score.label": "fail"}),
                }
            ]
        call = {
            "traceId": trace_id,
            "spanId": call_id,
            "parentSpanId": run_id,
            "name": f"chat {r['model']}",
            "kind": 3,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(end),
            "attributes": _otlp_attrs(
                {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "anthropic",
                    "gen_ai.request.model": r["model"],
                    "gen_ai.usage.input_tokens": r["input_tokens"],
                    "gen_ai.usage.output_tokens": r["output_tokens"],
                    "gen_ai.usage.cache_read.input_tokens": r.get("cached_input_tokens"),
                    "tierwatch.cost_usd": r.get("cost_usd"),  # as the fleet logged it
                }
            ),
        }
        if r["status"] == "error":
            call["status"] = {"code": 2, "message": "the call failed"}
        spans += [run, call]
    first = min(r["ts"] for r in records) * 1_000_000
    last = max(r["ts"] + r["latency_ms"] for r in records) * 1_000_000
    root = {
        "traceId": trace_id,
        "spanId": root_id,
        "name": f"invoke_workflow {plan_id}",
        "kind": 1,
        "startTimeUnixNano": str(first),
        "endTimeUnixNano": str(last),
        "attributes": _otlp_attrs({"gen_ai.operation.name": "invoke_workflow"}),
    }
    fleet = records[0]["fleet"]
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": _otlp_attrs(
                        {"service.namespace": fleet, "service.name": f"{fleet}-agents"}
                    )
                },
                "scopeSpans": [{"scope": {"name": "tierwatch.sample"}, "spans": [root, *spans]}],
            }
        ]
    }


def write_sample_otlp(
    out_dir: str | Path,
    days: int = 30,
    tasks_per_day: int = 500,
    seed: int = 7,
    start: dt.date = DEFAULT_START,
) -> list[Path]:
    """The same simulated fleet as `write_sample`'s, as OpenTelemetry traces: one OTLP/JSON
    export request per plan, one per line (as a Collector's file exporter writes), gzip,
    in `out_dir/fleet.otlp.json.gz`. Each attempt is an `invoke_agent` run carrying
    tierwatch's routing attributes, with its model call (model, tokens) inside; a failed
    attempt carries a failing evaluation event, an errored call an error status. A
    downstream failure reported later in v1 is an attribute of the task's last attempt
    (traces have no later report). The same arguments always give the same bytes."""
    if days < 1 or tasks_per_day < 1:
        raise ValueError("days and tasks_per_day must be >= 1")
    simulation = _Simulation(seed, start)
    simulation.run(days, tasks_per_day)
    reported = {r["task_id"] for _, r in simulation.downstream}
    plans: dict[str, list[dict]] = {}
    for fleet in FLEETS:
        for _, record in sorted(simulation.records[fleet.name], key=lambda kr: kr[0]):
            plans.setdefault(record["plan_id"], []).append(record)
    out = Path(out_dir)
    path = out / OTLP_FILE
    try:
        out.mkdir(parents=True, exist_ok=True)
        order = sorted(plans, key=lambda p: (plans[p][0]["ts"], p))
        _jsonl_gz(path, [_otlp_plan(p, plans[p], reported) for p in order])
    except OSError as e:
        raise _unwritable(out, e) from None
    return [path]


def sample_data_dir() -> Path:
    """The committed sample fleet: sample_data/ of the source tree (an installed wheel has
    none, and `load_sample` then writes a fresh one)."""
    return Path(__file__).resolve().parent.parent / "sample_data"


def load_sample(db: str | Path, config: Config):
    """Load the sample fleet into the store at `db`: the committed files, else a freshly
    written one (the same seeded fleet); the IngestReport."""
    folder = sample_data_dir()
    files = [
        p
        for p in (sorted(folder.glob("*")) if folder.is_dir() else [])
        if p.is_file() and Path(p.name.lower().removesuffix(".gz")).suffix in load.SUFFIXES
    ]
    if files:
        return load.ingest_paths(db, files, config)
    with tempfile.TemporaryDirectory(prefix="tierwatch-sample-") as tmp:
        write_sample(Path(tmp))
        return load.ingest_paths(db, [tmp], config)
