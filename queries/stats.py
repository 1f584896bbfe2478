"""Rates with their uncertainty: the Wilson score interval and the small-sample mark."""

from __future__ import annotations

import math

SMALL_SAMPLE = 30  # a rate over fewer tasks than this is marked small_sample


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for `successes` out of `n` (95% with z = 1.96).

    With n = 0 there is no evidence: (0.0, 1.0).
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"wilson needs 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def small_sample(n: int) -> bool:
    return n < SMALL_SAMPLE


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None (JSON null) when it is undefined: never NaN."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def rate_fields(name: str, count: int, n: int) -> dict:
    """`{name}_rate` and `{name}_rate_ci` ([low, high]) for `count` of `n`; rate None at n=0."""
    low, high = wilson(count, n)
    return {f"{name}_rate": ratio(count, n), f"{name}_rate_ci": [low, high]}
