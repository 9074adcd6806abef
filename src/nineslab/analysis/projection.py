"""Annual projection: expected annual downtime = Σ over fault kinds of
rate/year × (transition error-seconds + steady impact ratio × real-world time to repair)
+ the baseline: the error ratio outside every fault window × the rest of the year.
Transition error-seconds = what the fault cost in the lab beyond its steady part (so it does not grow
with how long the lab held it); steady impact = the error ratio while the fault is held after the
transition — that is the part that lasts as long as the real repair.

Every term has a point estimate and a 95 % upper bound (the steady impact's and the baseline's Wilson
intervals); the projection says whether the point meets the target and whether the bound does
(`proven`), and how many more clean requests would make the bound decidable."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nineslab.analysis.core import wilson

YEAR_S = 365 * 24 * 3600


@dataclass(frozen=True)
class Assumption:
    events_per_year: float
    repair_s: float
    source: str


def nines(availability: float) -> float:
    """0.999 -> 3.0 (capped at 9 for a perfect score)."""
    return 9.0 if availability >= 1 - 1e-9 else -math.log10(1 - availability)


def requests_for_bound(bad: int, total: int, cap: float, limit: int = 10**10) -> int | None:
    """How many requests in all (with the same error ratio) make the 95 % upper bound of the error
    ratio fall to `cap`: 0 when it already does, None when the point estimate itself is above `cap`."""
    if total and bad / total > cap:
        return None
    if total and 1 - wilson(total - bad, total).lo <= cap:
        return 0
    ratio = bad / total if total else 0.0
    lo, hi = max(total, 1), max(total, 1)
    while 1 - wilson(hi - round(ratio * hi), hi).lo > cap:  # double until the bound fits (bounded)
        lo, hi = hi, hi * 2
        if hi > limit:
            return None
    while hi - lo > max(1, lo // 1000):  # then bisect to 0.1 %
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if 1 - wilson(mid - round(ratio * mid), mid).lo > cap else (lo, mid)
    return hi


def project(
    impacts: dict[str, dict[str, Any]],
    assumptions: dict[str, Assumption],
    target: float,
    baseline: dict[str, int] | None = None,
) -> dict[str, Any]:
    """impacts: fault -> {error_seconds, hold_s, steady_error_ratio, steady_good, steady_total}.
    baseline: {good, total} of the requests outside every fault window. Faults without an assumption
    are listed (they cannot be projected) and do not count."""
    terms = []
    for fault, imp in impacts.items():
        a = assumptions.get(fault)
        if a is None:
            continue
        steady = imp.get("steady_error_ratio")
        steady = 0.0 if steady is None else steady
        good, total = int(imp.get("steady_good", 0)), int(imp.get("steady_total", 0))
        steady_hi = 1 - wilson(good, total).lo if total else 1.0  # nothing seen: anything is possible
        transition = max(0.0, imp["error_seconds"] - steady * imp["hold_s"])
        terms.append(
            {
                "fault": fault,
                "events_per_year": a.events_per_year,
                "repair_s": a.repair_s,
                "source": a.source,
                "transition_error_s": transition,
                "steady_error_ratio": steady,
                "steady_error_ratio_hi": steady_hi,
                "steady_requests": total,
                "steady_failed": total - good,
                "downtime_per_event_s": transition + steady * a.repair_s,
                "annual_downtime_s": a.events_per_year * (transition + steady * a.repair_s),
                "annual_downtime_hi_s": a.events_per_year * (transition + steady_hi * a.repair_s),
            }
        )
    # The rest of the year: no fault under way (every fault's expected yearly duration taken out).
    faulted_s = sum(t["events_per_year"] * t["repair_s"] for t in terms)
    rest_s = max(0.0, YEAR_S - faulted_s)
    base = baseline or {"good": 0, "total": 0}
    b_good, b_total = int(base["good"]), int(base["total"])
    b_ratio = 1 - b_good / b_total if b_total else 0.0
    b_hi = 1 - wilson(b_good, b_total).lo if b_total else 1.0
    base_term = {
        "error_ratio": b_ratio if b_total else None,
        "error_ratio_hi": b_hi,
        "requests": b_total,
        "failed": b_total - b_good,
        "seconds": rest_s,
        "annual_downtime_s": b_ratio * rest_s,
        "annual_downtime_hi_s": b_hi * rest_s,
    }
    downtime = sum(t["annual_downtime_s"] for t in terms) + base_term["annual_downtime_s"]
    downtime_hi = sum(t["annual_downtime_hi_s"] for t in terms) + base_term["annual_downtime_hi_s"]
    availability, availability_lo = 1 - downtime / YEAR_S, 1 - downtime_hi / YEAR_S
    budget_s = (1 - target) * YEAR_S
    for t in terms:
        t["budget_share"] = t["annual_downtime_s"] / budget_s if budget_s else None
    _evidence_needed(terms, base_term, budget_s - downtime)
    worst = max(terms, key=lambda t: t["annual_downtime_s"], default=None)
    return {
        "annual_downtime_s": downtime,
        "annual_downtime_hi_s": downtime_hi,
        "availability": availability,
        "availability_lo": availability_lo,
        "nines": nines(availability),
        "nines_lo": nines(availability_lo),
        "target": target,
        "target_nines": nines(target),
        "error_budget_s": budget_s,
        "meets_target": availability >= target,
        "proven": availability_lo >= target,
        "margin_s": budget_s - downtime,
        "margin_hi_s": budget_s - downtime_hi,
        "biggest_eater": worst["fault"] if worst and worst["annual_downtime_s"] > 0 else None,
        "terms": sorted(terms, key=lambda t: -t["annual_downtime_s"]),
        "baseline": base_term,
        "not_projected": sorted(set(impacts) - set(assumptions)),
        "model": "annual downtime = Σ rate × (transition error-seconds + steady impact × time to repair) "
        "+ baseline error ratio × the rest of the year; the bound uses each ratio's 95 % upper limit",
    }


def _evidence_needed(terms: list[dict[str, Any]], base: dict[str, Any], slack_s: float) -> None:
    """For each term and the baseline: how many requests in all its ratio needs for its upper bound to
    use no more than an even share of the budget left over by the point estimate (None: the point
    estimate alone leaves no room)."""
    parts = [*terms, base]
    share = slack_s / len(parts) if slack_s > 0 else None
    for part in parts:
        if "fault" in part:
            weight = part["events_per_year"] * part["repair_s"]
            current, bad, total = part["steady_error_ratio"], part["steady_failed"], part["steady_requests"]
        else:
            weight = part["seconds"]
            current, bad, total = part["error_ratio"] or 0.0, part["failed"], part["requests"]
        if share is None or weight <= 0:
            part["requests_needed"] = None if share is None else 0
            continue
        need = requests_for_bound(bad, total, current + share / weight)
        part["requests_needed"] = None if need is None else max(0, need - total)


def evidence_plan(weights: dict[str, float], budget_s: float) -> dict[str, int]:
    """Clean requests each part needs so that, with no failure seen, the 95 % upper bounds of all parts
    together fit the budget. weights: part -> seconds a year its error ratio is multiplied by
    (events × repair for a fault, the rest of the year for the baseline). With no failure in n requests
    the bound is ≈ z²/n, so part i costs ≈ z²·w_i/n_i; giving each part the budget share ∝ √w_i
    minimises Σ n_i (Lagrange) — the baseline, weighted by most of the year, gets most of it.
    This is the least evidence a perfect estate needs: any failure seen needs more."""
    roots = {k: math.sqrt(w) for k, w in weights.items() if w > 0}
    total_root = sum(roots.values())
    plan = {k: 0 for k in weights}
    if budget_s <= 0 or not total_root:
        return plan
    for k, root in roots.items():
        share = budget_s * root / total_root
        plan[k] = requests_for_bound(0, 0, share / weights[k]) or 0
    return plan
