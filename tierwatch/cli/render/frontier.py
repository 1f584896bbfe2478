"""The `frontier` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import fmt_rate, fmt_usd, format_table


def render(result: dict) -> str:
    rows = result["points"]
    return "\n".join(
        [
            format_table(
                "Cost-quality frontier (executor cost per task; failure = final or downstream)",
                [
                    ("", lambda r: r["name"]),
                    (
                        "cost per task",
                        lambda r: (
                            "unknown"
                            if r["cost_per_task_usd"] is None
                            else fmt_usd(r["cost_per_task_usd"])
                        ),
                    ),
                    (
                        "failure rate",
                        lambda r: (
                            "unknown"
                            if r["failure_rate"] is None
                            else fmt_rate(r["failure_rate"], r["failure_rate_ci"])
                        ),
                    ),
                    (
                        "gap recovered",
                        lambda r: (
                            "" if r["gap_recovered"] is None else fmt_rate(r["gap_recovered"])
                        ),
                    ),
                    ("AIQ", lambda r: "" if r["aiq"] is None else f"{r['aiq']:.4f}"),
                    ("note", lambda r: r["note"]),
                ],
                rows,
            ),
            "",
            f"Gap recovered: the share of the failure gap between {result['cheapest_one_tier']} "
            "and the oracle that a routing closes (RouteLLM's PGR). AIQ: the area under the "
            "frontier of the one-tier fleets with that routing added, over their cost range "
            f"(RouterBench); the one-tier fleets alone: "
            + ("–" if result["aiq_one_tier"] is None else f"{result['aiq_one_tier']:.4f}"),
        ]
    )
