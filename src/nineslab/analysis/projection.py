"""Annual projection: expected annual downtime = Σ over fault kinds of
rate/year × (transition error-seconds + steady impact ratio × real-world time to repair)
+ the baseline: the error ratio outside every fault window × the rest of the year.
Transition error-seconds = what the fault cost in the lab beyond its steady part (so it does not grow
with how long the lab held it); steady impact = the error ratio while the fault is held after the
transition — that is the part that lasts as long as the real repair.

Every term has a point estimate and a one-sided 95 % upper bound (Clopper–Pearson on its ratio); the
verdict is judged on the bound. The bound is also where the load generator's own stalls go: requests
it held up are left out of the point and counted as failed in the bound (a stalled second inside a
fault window is a failed second there). A fault run K times: the point takes the mean transition, the
bound the largest one seen. Every term also shows its break-even rate (the events per year at which
the bound alone would cross the budget), so a rate set low enough to pass is visible as such."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nineslab.analysis.bounds import BOUND_NAME, cp_upper

YEAR_S = 365 * 24 * 3600
BASELINE = "baseline"  # the name of the baseline term wherever terms are named


@dataclass(frozen=True)
class Assumption:
    events_per_year: float
    repair_s: float
    source: str


@dataclass(frozen=True)
class FaultRun:
    """One measured run of a fault (from fault_impact)."""

    error_seconds: float  # point: stalled requests left out
    hold_s: float
    steady_good: int
    steady_total: int  # answered or failed in the steady window, stalled ones left out
    error_seconds_hi: float | None = None  # stalled requests counted as failed (None: as the point)
    steady_stalled: int = 0  # stalled requests in the steady window
    stalled_s: float = 0.0  # seconds of the fault's window the load generator was stalled


@dataclass(frozen=True)
class BaselineEvidence:
    """The requests outside every fault window."""

    good: int
    total: int  # stalled ones left out
    stalled: int = 0
    stalled_s: float = 0.0


def nines(availability: float) -> float:
    """0.999 -> 3.0 (capped at 9 for a perfect score)."""
    return 9.0 if availability >= 1 - 1e-9 else -math.log10(1 - availability)


def _least(fits: Callable[[int], bool], lo: int, hi: int, limit: int) -> int | None:
    """The least n above `lo` for which `fits(n)` (monotone) holds, to 0.1 %: `hi` doubled until it
    fits (None past `limit`), then bisected."""
    while not fits(hi):  # double until the bound fits (bounded)
        lo, hi = hi, hi * 2
        if hi > limit:
            return None
    while hi - lo > max(1, lo // 1000):  # then bisect to 0.1 %
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return hi


def requests_for_bound(bad: int, total: int, cap: float, limit: int = 10**10) -> int | None:
    """How many requests in all (with the same error ratio) make the 95 % upper bound of the error
    ratio fall to `cap`: 0 when it already does, None when the point estimate itself is at or above
    `cap` (no amount of evidence brings the bound under it)."""
    if total and bad / total >= cap:
        return None
    if cap >= 1.0 or (total and cp_upper(bad, total) <= cap):
        return 0
    ratio = bad / total if total else 0.0
    start = max(total, 1)
    return _least(lambda n: cp_upper(round(ratio * n), n) <= cap, start, start, limit)


def more_clean_requests(bad: int, total: int, cap: float, limit: int = 10**10) -> int | None:
    """How many more clean requests (no failure among them) bring the 95 % upper bound of `bad` failures
    (stalled ones included) in `total` under `cap`: 0 when it is already, None when none would within
    `limit`."""
    if cap >= 1.0 or cp_upper(bad, total) <= cap:
        return 0
    return _least(lambda more: cp_upper(bad, total + more) <= cap, 0, max(total, 1), limit)


def _term(fault: str, a: Assumption, runs: list[FaultRun]) -> dict[str, Any]:
    good = sum(r.steady_good for r in runs)
    total = sum(r.steady_total for r in runs)
    stalled = sum(r.steady_stalled for r in runs)
    steady = (total - good) / total if total else 0.0
    steady_hi = cp_upper(total - good, total)  # nothing seen: 1.0, anything is possible
    steady_hi_stalls = cp_upper(total - good + stalled, total + stalled)
    transitions = [max(0.0, r.error_seconds - steady * r.hold_s) for r in runs]
    transitions_hi = [
        max(0.0, (r.error_seconds if r.error_seconds_hi is None else r.error_seconds_hi) - steady * r.hold_s)
        for r in runs
    ]
    transition = sum(transitions) / len(transitions)
    per_event_hi = max(transitions_hi) + steady_hi_stalls * a.repair_s
    without_stalls_hi = a.events_per_year * (max(transitions) + steady_hi * a.repair_s)
    return {
        "fault": fault,
        "events_per_year": a.events_per_year,
        "repair_s": a.repair_s,
        "source": a.source,
        "runs": len(runs),
        "transition_error_s": transition,
        "transition_error_s_hi": max(transitions_hi),
        "transition_spread_s": [min(transitions), max(transitions)],
        "steady_error_ratio": steady,
        "steady_error_ratio_hi": steady_hi_stalls,
        "steady_requests": total,
        "steady_failed": total - good,
        "steady_stalled": stalled,
        "stalled_s": sum(r.stalled_s for r in runs),
        "downtime_per_event_s": transition + steady * a.repair_s,
        "downtime_per_event_hi_s": per_event_hi,
        "annual_downtime_s": a.events_per_year * (transition + steady * a.repair_s),
        "annual_downtime_hi_s": a.events_per_year * per_event_hi,
        # what the load generator's stalls added to this term's bound
        "stall_widening_s": a.events_per_year * per_event_hi - without_stalls_hi,
    }


def project(
    runs: dict[str, list[FaultRun]],
    assumptions: dict[str, Assumption],
    target: float,
    baseline: BaselineEvidence | None = None,
) -> dict[str, Any]:
    """runs: fault -> its measured runs. Faults without an assumption cannot be projected: they are
    listed as `unrated` (a verdict cannot be better than PARTIAL with one) and do not count."""
    terms = [_term(fault, assumptions[fault], rs) for fault, rs in runs.items() if rs and fault in assumptions]
    # The rest of the year: no fault under way (every fault's expected yearly duration taken out).
    faulted_s = sum(t["events_per_year"] * t["repair_s"] for t in terms)
    rest_s = max(0.0, YEAR_S - faulted_s)
    base = baseline or BaselineEvidence(0, 0)
    b_ratio = 1 - base.good / base.total if base.total else 0.0
    b_hi_plain = cp_upper(base.total - base.good, base.total)
    b_hi = cp_upper(base.total - base.good + base.stalled, base.total + base.stalled)
    base_term = {
        "error_ratio": b_ratio if base.total else None,
        "error_ratio_hi": b_hi,
        "requests": base.total,
        "failed": base.total - base.good,
        "stalled": base.stalled,
        "stalled_s": base.stalled_s,
        "seconds": rest_s,
        "annual_downtime_s": b_ratio * rest_s,
        "annual_downtime_hi_s": b_hi * rest_s,
        "stall_widening_s": (b_hi - b_hi_plain) * rest_s,
    }
    downtime = sum(t["annual_downtime_s"] for t in terms) + base_term["annual_downtime_s"]
    downtime_hi = sum(t["annual_downtime_hi_s"] for t in terms) + base_term["annual_downtime_hi_s"]
    availability, availability_lo = 1 - downtime / YEAR_S, 1 - downtime_hi / YEAR_S
    budget_s = (1 - target) * YEAR_S
    for t in terms:
        t["budget_share"] = t["annual_downtime_s"] / budget_s if budget_s else None
        t["budget_share_hi"] = t["annual_downtime_hi_s"] / budget_s if budget_s else None
        # the events a year at which the bound would cross the budget, every other term as it is
        room = budget_s - (downtime_hi - t["annual_downtime_hi_s"])
        per_event = t["downtime_per_event_hi_s"]
        t["break_even_events_per_year"] = None if per_event <= 0 else max(0.0, room) / per_event
        # and at which it alone would use the whole budget (informative when the others already do)
        t["break_even_alone_events_per_year"] = None if per_event <= 0 else budget_s / per_event
    base_term["budget_share_hi"] = base_term["annual_downtime_hi_s"] / budget_s if budget_s else None
    _evidence_needed(terms, base_term, budget_s - downtime)
    parts = [(t["fault"], t["annual_downtime_hi_s"]) for t in terms] + [(BASELINE, base_term["annual_downtime_hi_s"])]
    worst = max(parts, key=lambda p: p[1])
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
        # chosen by the bound among every term, the baseline included
        "biggest_eater": worst[0] if worst[1] > 0 else None,
        "stall_widening_s": sum(t["stall_widening_s"] for t in terms) + base_term["stall_widening_s"],
        "terms": sorted(terms, key=lambda t: -t["annual_downtime_hi_s"]),
        "baseline": base_term,
        "unrated": sorted(f for f in runs if f not in assumptions),
        "bound": BOUND_NAME,
        "model": "annual downtime = Σ rate × (transition error-seconds + steady impact × time to repair) "
        "+ baseline error ratio × the rest of the year; the bound uses each ratio's one-sided 95 % upper "
        "limit (Clopper–Pearson), the largest transition of a fault's runs, and counts the load "
        "generator's stalled requests as failed",
    }


def _evidence_needed(terms: list[dict[str, Any]], base: dict[str, Any], slack_s: float) -> None:
    """For each term and the baseline: how many more requests its ratio needs for its upper bound to use
    no more than an even share of the budget left over by the point estimate (None: the point estimate
    alone leaves no room): for a fault, more of its steady window at the ratio it showed; for the
    baseline, more clean requests."""
    parts = [*terms, base]
    share = slack_s / len(parts) if slack_s > 0 else None
    for part in parts:
        fault = "fault" in part
        weight = part["events_per_year"] * part["repair_s"] if fault else part["seconds"]
        if share is None or weight <= 0:
            part["requests_needed"] = None if share is None else 0
            continue
        if fault:  # more of the steady window at the ratio it showed (its failures are the fault's)
            bad, total = part["steady_failed"], part["steady_requests"]
            cap = part["steady_error_ratio"] + share / weight
            need = requests_for_bound(bad, total, cap)
            part["requests_needed"] = None if need is None else max(0, need - total)
        else:  # the baseline: more clean requests (its stalled ones stay counted as failed)
            bad, total = part["failed"] + part["stalled"], part["requests"] + part["stalled"]
            part["requests_needed"] = more_clean_requests(bad, total, (part["error_ratio"] or 0.0) + share / weight)


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
