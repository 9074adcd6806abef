"""The one-sided 95 % upper bound of a failure ratio that the verdict is judged on: Clopper–Pearson,
exact for zero and few failures (where the normal approximation and even Wilson's interval are not),
computed here without scipy (the binomial sum in log space, inverted by bisection). Pure."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["CONFIDENCE", "BOUND_NAME", "cp_upper", "binom_cdf"]

CONFIDENCE = 0.95
BOUND_NAME = "one-sided 95 % upper bound (Clopper–Pearson, exact)"


def _log_choose(failed: int, total: int) -> np.ndarray:
    """log C(total, k) for k = 0..failed, by the running product (no lgamma over an array needed)."""
    k = np.arange(1, failed + 1, dtype=np.float64)
    return np.concatenate(([0.0], np.cumsum(np.log((total - k + 1) / k))))


def binom_cdf(failed: int, total: int, p: float, log_choose: np.ndarray | None = None) -> float:
    """P(X <= failed) for X ~ Binomial(total, p), summed in log space (exact to float precision)."""
    if p <= 0.0 or failed >= total:
        return 1.0
    if p >= 1.0:
        return 0.0
    lc = _log_choose(failed, total) if log_choose is None else log_choose
    k = np.arange(failed + 1, dtype=np.float64)
    logpmf = lc + k * math.log(p) + (total - k) * math.log1p(-p)
    top = float(logpmf.max())
    return min(1.0, math.exp(top) * float(np.exp(logpmf - top).sum()))


def cp_upper(failed: int, total: int, confidence: float = CONFIDENCE) -> float:
    """The largest failure probability p still consistent, at `confidence`, with seeing at most `failed`
    failures in `total` trials: P(X <= failed | p) = 1 - confidence. Nothing seen: 1.0 (anything is
    possible); every trial failed: 1.0. With no failure it is 1 - (1 - confidence)^(1/total) ≈ 3/total."""
    if total <= 0 or failed >= total:
        return 1.0
    failed = max(0, int(failed))
    alpha = 1.0 - confidence
    if failed == 0:
        return float(1.0 - alpha ** (1.0 / total))
    lc = _log_choose(failed, total)
    lo, hi = failed / total, 1.0  # the bound lies above the observed ratio; the CDF falls as p rises
    for _ in range(200):  # bounded; stops at float resolution long before
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if binom_cdf(failed, total, mid, lc) > alpha:
            lo = mid
        else:
            hi = mid
    return hi
