"""Confidence calibration on a fleet small enough to work out by hand."""

from __future__ import annotations

import pytest
from fixtures_analytics import HOSTILE_TASK_TYPES, attempt, build_store, downstream, hostile_records

from tierwatch.cli.render import render_text
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters
from tierwatch.queries.report import build_report

DEFAULT = load_config(None)


def records() -> list[dict]:
    # haiku, source self_report (confidence, success of the attempt):
    #   a  0.9 ok                       -> success
    #   b  0.9 ok, found wrong later    -> failure (its accepted attempt; a silent failure)
    #   c  "low" = 0.3, failed          -> failure
    #   d  0.7 ok                       -> success
    #   e1 0.6 failed, then escalated   -> failure (not the accepted attempt)
    #   f  ok without a confidence      -> counted in attempts_without_confidence only
    # sonnet, source logprob:
    #   e2 0.95 ok                      -> success
    return [
        attempt("a", "2026-03-01T09:00:00Z", "ext", "haiku", confidence=0.9,
                confidence_source="self_report"),
        attempt("b", "2026-03-01T09:01:00Z", "ext", "haiku", confidence=0.9,
                confidence_source="self_report"),
        downstream("b", "2026-03-02T09:00:00Z"),
        attempt("c", "2026-03-01T09:02:00Z", "cls", "haiku", confidence="low",
                confidence_source="self_report", status="failed"),
        attempt("d", "2026-03-01T09:03:00Z", "cls", "haiku", confidence=0.7,
                confidence_source="self_report"),
        attempt("e", "2026-03-01T09:04:00Z", "cls", "haiku", confidence=0.6,
                confidence_source="self_report", status="failed"),
        attempt("e", "2026-03-01T09:05:00Z", "cls", "sonnet", attempt=2, confidence=0.95,
                confidence_source="logprob", escalation_reason="reviewer_reject"),
        attempt("f", "2026-03-01T09:06:00Z", "cls", "haiku"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    db = build_store(tmp_path_factory.mktemp("calibration"), records())
    with open_store(db) as con:
        return build_report(con, "calibration", DEFAULT, Filters())


def group(result: dict, tier: str) -> dict:
    (g,) = [g for g in result["by_tier"] if g["tier"] == tier]
    return g


def test_haiku_scores_by_hand(calibration):
    g = group(calibration, "haiku")
    assert g["confidence_source"] == "self_report"
    assert (g["attempts"], g["successes"], g["failures"]) == (5, 2, 3)
    assert g["attempts_without_confidence"] == 1  # f
    # Brier: a (0.9-1)^2 = 0.01, b 0.9^2 = 0.81, c 0.3^2 = 0.09, d (0.7-1)^2 = 0.09,
    # e1 0.6^2 = 0.36; sum 1.36 / 5 = 0.272
    assert g["brier"] == pytest.approx(0.272)
    # AUROC: successes {0.9, 0.7} x failures {0.9, 0.3, 0.6} = 6 pairs;
    # 0.9 beats 0.3 and 0.6 and ties 0.9 (one half): 2.5; 0.7 beats 0.3 and 0.6: 2.
    # (2.5 + 2) / 6 = 0.75
    assert g["auroc"] == pytest.approx(0.75)
    # high share: 0.9 and 0.9 of five confidences are >= 0.8: 0.4, not saturated
    assert g["high_share"] == pytest.approx(0.4)
    assert g["saturated"] is False
    assert g["small_sample"] is True


def test_haiku_reliability_bins_and_ece_by_hand(calibration):
    g = group(calibration, "haiku")
    bins = {round(b["bin_low"], 1): b for b in g["bins"]}
    # bin 0.3: c (0.3, failure); 0.6: e1 (0.6, failure); 0.7: d (0.7, success);
    # 0.9: a and b (0.9 each, one success)
    assert sorted(bins) == [0.3, 0.6, 0.7, 0.9]
    assert (bins[0.9]["attempts"], bins[0.9]["successes"]) == (2, 1)
    assert bins[0.9]["success_rate"] == pytest.approx(0.5)
    assert bins[0.9]["gap"] == pytest.approx(0.4)  # 0.9 stated - 0.5 observed
    assert bins[0.7]["gap"] == pytest.approx(-0.3)  # 0.7 stated - 1.0 observed
    # ECE = 1/5*|0.3-0| + 1/5*|0.6-0| + 1/5*|0.7-1| + 2/5*|0.9-0.5|
    #     = 0.06 + 0.12 + 0.06 + 0.16 = 0.40
    assert g["ece"] == pytest.approx(0.40)


def test_one_class_gives_null_auroc_and_saturation(calibration):
    g = group(calibration, "sonnet")
    assert g["confidence_source"] == "logprob"
    assert (g["attempts"], g["failures"]) == (1, 0)
    assert g["auroc"] is None  # no failure to rank against
    assert g["brier"] == pytest.approx(0.0025)  # (0.95 - 1)^2
    assert g["ece"] == pytest.approx(0.05)  # one bin, |0.95 - 1|
    assert g["saturated"] is True  # 1 of 1 confidences >= 0.8


def test_silent_failures_descending_with_examples(calibration):
    silent = calibration["silent_failures"]
    assert [s["task_type"] for s in silent] == ["ext", "cls"]
    ext, cls = silent
    # ext: b of a, b; cls: none of c, d, e, f
    assert (ext["count"], ext["tasks"], ext["rate"]) == (1, 2, 0.5)
    assert ext["example_task_ids"] == ["b"]
    assert ext["by_final_tier"] == {"haiku": 1}
    assert ext["high_confidence_accepted"] == 2  # a and b said 0.9 and were ok
    assert (cls["count"], cls["rate"], cls["example_task_ids"]) == (0, 0.0, [])


def test_saturation_threshold_is_inclusive(tmp_path):
    # 9 of 10 confidences are >= 0.8: exactly the 90% that counts as saturated
    recs = [
        attempt(f"t{i}", f"2026-03-01T10:{i:02d}:00Z", "x", "opus",
                confidence=0.85 if i < 9 else 0.5)
        for i in range(10)
    ]  # fmt: skip
    with open_store(build_store(tmp_path, recs)) as con:
        (g,) = build_report(con, "calibration", DEFAULT, Filters())["by_tier"]
    assert g["high_share"] == pytest.approx(0.9) and g["saturated"] is True
    assert g["confidence_source"] == "(not given)"


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    # every hostile name (and "control") as task type and fleet, with one silent failure each
    recs = []
    for i, name in enumerate((*HOSTILE_TASK_TYPES, "control")):
        recs += [
            attempt(f"s{i}", "2026-03-01T11:00:00Z", name, "haiku", confidence=0.9, fleet=name),
            downstream(f"s{i}", "2026-03-02T11:00:00Z"),
        ]
    return build_store(tmp_path_factory.mktemp("hostile"), hostile_records() + recs)


@pytest.mark.parametrize("name", HOSTILE_TASK_TYPES)
def test_hostile_task_type_filter(hostile_db, name):
    with open_store(hostile_db) as con:
        result = build_report(con, "calibration", DEFAULT, Filters(task_types=(name,)))
        fleet = build_report(con, "calibration", DEFAULT, Filters(fleets=(name,)))
    for r in (result, fleet):
        # the hostile type's two tasks: h (escalated, no confidence) and s (silent failure)
        (silent,) = r["silent_failures"]
        assert (silent["task_type"], silent["tasks"], silent["count"]) == (name, 2, 1)
        (g,) = r["by_tier"]
        assert (g["tier"], g["attempts"], g["attempts_without_confidence"]) == ("haiku", 1, 1)
    assert name in render_text("calibration", result)


def test_render_names_the_warning(calibration):
    text = render_text("calibration", calibration)
    assert "SATURATED" in text and "ext" in text and "0.750" in text


def _brute_force(points: list[tuple[float, bool]]) -> dict:
    """AUROC over every (success, failure) pair, Brier and 10-bin ECE, the slow way."""
    wins = 0.0
    successes = [c for c, ok in points if ok]
    failures = [c for c, ok in points if not ok]
    for s in successes:
        for f in failures:
            wins += 1.0 if s > f else 0.5 if s == f else 0.0
    bins: dict[int, list[tuple[float, bool]]] = {}
    for c, ok in points:
        bins.setdefault(min(int(c * 10), 9), []).append((c, ok))
    n = len(points)
    ece = sum(
        len(b) / n * abs(sum(c for c, _ in b) / len(b) - sum(ok for _, ok in b) / len(b))
        for b in bins.values()
    )
    return {
        "auroc": wins / (len(successes) * len(failures)) if successes and failures else None,
        "brier": sum((c - ok) ** 2 for c, ok in points) / n,
        "ece": ece,
    }


@pytest.mark.parametrize("seed", range(12))
def test_sql_scores_equal_the_brute_force_on_random_data(seed):
    """The SQL's AUROC (ties), Brier and ECE against pairwise Python on random calls, through
    both the totals (no filter) and the daily rows (a filter): 0.1-step confidences force
    ties, some ok calls are accepted-but-wrong (moved to failures by the tasks' facts)."""
    import random

    import duckdb

    from tierwatch.queries import materialize, run

    rng = random.Random(seed)
    con = duckdb.connect()
    con.execute("create table ladder (rank integer, name varchar)")
    con.execute("insert into ladder values (1, 'haiku')")
    values: dict[tuple, int] = {}
    wrong: dict[float, int] = {}
    points = []
    for _ in range(rng.randint(5, 60)):
        c = round(rng.randint(0, 10) / 10, 1)
        ok = rng.random() < 0.7
        found_wrong = ok and rng.random() < 0.3
        values[(c, ok)] = values.get((c, ok), 0) + 1
        if found_wrong:
            wrong[c] = wrong.get(c, 0) + 1
        points.append((c, ok and not found_wrong))
    con.execute(
        "create temp table executor_confidence_values (day date, fleet varchar, task_type "
        "varchar, tier varchar, confidence_source varchar, confidence double, ok boolean, "
        "attempts bigint)"
    )
    con.executemany(
        "insert into executor_confidence_values values "
        "('2026-03-01', 'f', 't', 'haiku', 's', ?, ?, ?)",
        [(c, ok, n) for (c, ok), n in values.items()],
    )
    con.execute(
        "create temp table executor_confidence_totals as select tier, confidence_source, "
        "confidence, ok, sum(attempts) as attempts from executor_confidence_values group by all"
    )
    con.execute(
        "create temp table accepted_wrong_values as select * from executor_confidence_values "
        "where false"
    )
    con.executemany(
        "insert into accepted_wrong_values (day, fleet, task_type, tier, confidence_source, "
        "confidence, attempts) values ('2026-03-01', 'f', 't', 'haiku', 's', ?, ?)",
        list(wrong.items()),
    )
    truth = _brute_force(points)
    for filters in (Filters(), Filters(fleets=("f",))):
        materialize(con, "confidence_outcomes", filters.params())
        (g,) = run(con, "confidence_scores", filters.params())
        assert g["attempts"] == len(points)
        assert g["successes"] == sum(ok for _, ok in points)
        assert g["brier"] == pytest.approx(truth["brier"])
        if truth["auroc"] is None:
            assert g["auroc"] is None
        else:
            assert g["auroc"] == pytest.approx(truth["auroc"])
        bins = run(con, "confidence_reliability", filters.params())
        n = sum(b["attempts"] for b in bins)
        ece = sum(
            b["attempts"] / n * abs(b["mean_confidence"] - b["successes"] / b["attempts"])
            for b in bins
        )
        assert ece == pytest.approx(truth["ece"])
