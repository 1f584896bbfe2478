"""The `calibration` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import fmt_rate, format_table


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def render(result: dict) -> str:
    """Calibration as text: one line per tier x source, the worst bins, silent failures."""
    groups = format_table(
        "Confidence calibration per executed tier and confidence source "
        "(success = attempt ok and, if accepted, no downstream failure)",
        [
            ("tier", lambda r: r["tier"]),
            ("source", lambda r: r["confidence_source"]),
            ("attempts", lambda r: r["attempts"]),
            ("no conf. (tier)", lambda r: r["attempts_without_confidence"]),
            ("mean conf.", lambda r: _num(r["mean_confidence"], 2)),
            ("success", lambda r: fmt_rate(r["success_rate"], r["success_rate_ci"])),
            ("ECE", lambda r: _num(r["ece"])),
            ("Brier", lambda r: _num(r["brier"])),
            ("AUROC", lambda r: _num(r["auroc"])),
            ("high_share", lambda r: fmt_rate(r["high_share"])),
            (
                "warning",
                lambda r: " ".join(
                    w
                    for w, on in (
                        ("SATURATED", r["saturated"]),
                        ("small sample", r["small_sample"]),
                    )
                    if on
                ),
            ),
        ],
        result["by_tier"],
    )
    parts = [groups]
    for g in result["by_tier"]:
        parts.append(
            format_table(
                f"Reliability: {g['tier']} / {g['confidence_source']}",
                [
                    ("confidence", lambda b: f"{b['bin_low']:.1f}–{b['bin_high']:.1f}"),
                    ("attempts", lambda b: b["attempts"]),
                    ("mean conf.", lambda b: _num(b["mean_confidence"], 2)),
                    (
                        "observed success",
                        lambda b: fmt_rate(b["success_rate"], b["success_rate_ci"]),
                    ),
                    ("gap", lambda b: f"{b['gap']:+.2f}"),
                    ("", lambda b: "small sample" if b["small_sample"] else ""),
                ],
                g["bins"],
            )
        )
    parts.append(
        format_table(
            "Silent failures (accepted ok with confidence >= 0.8, found wrong downstream)",
            [
                ("task_type", lambda r: r["task_type"]),
                ("tasks", lambda r: r["tasks"]),
                ("silent", lambda r: r["count"]),
                ("rate", lambda r: fmt_rate(r["rate"], r["rate_ci"])),
                (
                    "by final tier",
                    lambda r: ", ".join(f"{k} {v}" for k, v in r["by_final_tier"].items()),
                ),
                ("examples", lambda r: ", ".join(r["example_task_ids"])),
            ],
            [r for r in result["silent_failures"] if r["count"]],
        )
    )
    return "\n\n".join(parts)
