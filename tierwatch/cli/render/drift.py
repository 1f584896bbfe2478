"""The `drift` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import fmt_rate, format_table
from tierwatch.queries.drift import METRICS


def render(result: dict) -> str:
    """Drift as text: versions, each change's before/after table, evidence age."""
    parts = [
        format_table(
            "Model versions per tier (executor attempts)",
            [
                ("tier", lambda v: v["tier"]),
                ("model", lambda v: v["model"]),
                ("first_day", lambda v: v["first_day"]),
                ("last_day", lambda v: v["last_day"]),
                ("attempts", lambda v: v["attempts"]),
                ("share", lambda v: fmt_rate(v["share"])),
                ("main since", lambda v: v["dominant_since"] or "never main"),
            ],
            result["model_versions"],
        )
    ]
    if not result["model_changes"]:
        parts.append("No tier changed its model version in the selection.")
    for c in result["model_changes"]:
        parts.append(
            format_table(
                f"{c['tier']}: {c['from_model']} -> {c['to_model']} on {c['at']} "
                "(tasks assigned to the tier; * = 95% intervals separate, ** = also at "
                f"z = {c['family_z'] or 1.96:.2f} for the {len(c['by_task_type'])} types compared)",
                [
                    ("task_type", lambda r: r["task_type"]),
                    ("before", lambda r: r["before"]["tasks"]),
                    ("after", lambda r: r["after"]["tasks"]),
                    *[
                        (
                            f"{m.replace('_', ' ')} before -> after",
                            lambda r, m=m: (
                                f"{fmt_rate(r['before'][f'{m}_rate'])} -> "
                                f"{fmt_rate(r['after'][f'{m}_rate'])}"
                                + (
                                    " **"
                                    if r["significant"][m]
                                    else " *"
                                    if r["separated"][m]
                                    else ""
                                )
                            ),
                        )
                        for m in METRICS
                    ],
                    ("", lambda r: "small sample" if r["small_sample"] else ""),
                ],
                c["by_task_type"],
            )
        )
    parts.append(
        format_table(
            f"Routing evidence (stale after {result['settings']['stale_after_days']:g} days, "
            "or after a model change with too few tasks on the new model)",
            [
                ("task_type", lambda r: r["task_type"]),
                ("routed", lambda r: r["routed_tier"]),
                ("tasks", lambda r: r["evidence_tasks"]),
                ("newest", lambda r: r["evidence_last_day"]),
                ("age (days)", lambda r: r["evidence_age_days"]),
                ("model now", lambda r: f"{r['current_model']} since {r['current_model_since']}"),
                ("on it", lambda r: r["tasks_on_current_model"]),
                (
                    "baseline",
                    lambda r: (
                        f"{r['baseline_tier']} {r['baseline_tasks']}" if r["baseline_tier"] else "–"
                    ),
                ),
                (
                    "stale",
                    lambda r: "STALE: " + "; ".join(r["stale_reasons"]) if r["stale"] else "",
                ),
            ],
            result["evidence"],
        )
    )
    return "\n\n".join(parts)
