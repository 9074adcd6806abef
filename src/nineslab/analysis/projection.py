"""Annual projection: expected annual downtime = Σ over fault kinds of
rate/year × (transition error-seconds + steady impact ratio × real-world time to repair).
Transition error-seconds = what the fault cost in the lab beyond its steady part (so it does not grow
with how long the lab held it); steady impact = the error ratio while the fault is held after the
transition — that is the part that lasts as long as the real repair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

YEAR_S = 365 * 24 * 3600


@dataclass(frozen=True)
class Assumption:
    events_per_year: float
    repair_s: float
    source: str


def nines(availability: float) -> float:
    """0.999 -> 3.0 (capped at 9 for a perfect score)."""
    import math

    return 9.0 if availability >= 1 - 1e-9 else -math.log10(1 - availability)


def project(impacts: dict[str, dict[str, Any]], assumptions: dict[str, Assumption], target: float) -> dict[str, Any]:
    """impacts: fault -> {error_seconds, steady_error_ratio, hold_s}. Faults without an assumption are
    listed (they cannot be projected) and do not count."""
    terms = []
    for fault, imp in impacts.items():
        a = assumptions.get(fault)
        if a is None:
            continue
        steady = imp.get("steady_error_ratio") or 0.0
        transition = max(0.0, imp["error_seconds"] - steady * imp["hold_s"])
        per_event = transition + steady * a.repair_s
        terms.append(
            {
                "fault": fault,
                "events_per_year": a.events_per_year,
                "repair_s": a.repair_s,
                "source": a.source,
                "transition_error_s": transition,
                "steady_error_ratio": steady,
                "downtime_per_event_s": per_event,
                "annual_downtime_s": a.events_per_year * per_event,
            }
        )
    downtime = sum(t["annual_downtime_s"] for t in terms)
    availability = 1 - downtime / YEAR_S
    budget_s = (1 - target) * YEAR_S
    for t in terms:
        t["budget_share"] = t["annual_downtime_s"] / budget_s if budget_s else None
    worst = max(terms, key=lambda t: t["annual_downtime_s"], default=None)
    return {
        "annual_downtime_s": downtime,
        "availability": availability,
        "nines": nines(availability),
        "target": target,
        "target_nines": nines(target),
        "error_budget_s": budget_s,
        "meets_target": availability >= target,
        "margin_s": budget_s - downtime,
        "biggest_eater": worst["fault"] if worst and worst["annual_downtime_s"] > 0 else None,
        "terms": sorted(terms, key=lambda t: -t["annual_downtime_s"]),
        "not_projected": sorted(set(impacts) - set(assumptions)),
        "model": "annual downtime = Σ rate × (transition error-seconds + steady impact × time to repair)",
    }
