"""Confidence intervals for the shares HR leads compare (small groups, shares near 0 or 1).

Wilson's score interval for one share, and Newcombe's hybrid score interval (his method 10,
built from the two Wilson intervals) for the difference of two independent shares: both
stay inside [0, 1] / [-1, 1] and keep their coverage at the group sizes of one role family
and quarter, where the textbook normal interval does not (Newcombe, Statistics in Medicine
1998; 17:857-872).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

LEVEL = 0.95


def z_value(level: float = LEVEL) -> float:
    if not 0 < level < 1:
        raise ValueError("a confidence level lies strictly between 0 and 1, e.g. 0.95")
    return NormalDist().inv_cdf(0.5 + level / 2)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def excludes(self, value: float) -> bool:
        """The interval says something against `value` (e.g. 0: no difference)."""
        return not self.low <= value <= self.high


def _check(successes: int, n: int) -> None:
    if n < 0 or successes < 0 or successes > n:
        raise ValueError("a share needs 0 <= successes <= n")


def wilson(successes: int, n: int, level: float = LEVEL) -> Interval | None:
    """Wilson's score interval for successes / n; None when n is 0 (nothing to say)."""
    _check(successes, n)
    if n == 0:
        return None
    z = z_value(level)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(p, low, high)


def newcombe_difference(successes_a: int, n_a: int, successes_b: int, n_b: int,
                        level: float = LEVEL) -> Interval | None:
    """The difference share_a - share_b with Newcombe's hybrid score interval (method 10);
    None when either group is empty."""
    a, b = wilson(successes_a, n_a, level), wilson(successes_b, n_b, level)
    if a is None or b is None:
        return None
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return Interval(d, max(-1.0, low), min(1.0, high))
