"""`nineslab suite --holds-for-target`: hold times and a baseline long enough that the projection's 95 %
bound can meet the topology's target — for an estate that fails nothing in its steady windows. The
steady window is the second half of a hold, so a fault that needs n clean steady requests at rate r
is held 2n/r seconds. Pure arithmetic; the runner patches the experiment files with the holds."""

from __future__ import annotations

import math
from dataclasses import dataclass

from nineslab.analysis.projection import YEAR_S, Assumption, evidence_plan
from nineslab.faults import FaultSpec

MAX_HOLD_S = 600.0  # the longest hold an experiment file may carry (check_experiment)


@dataclass(frozen=True)
class SuitePlan:
    holds: dict[str, float]  # fault -> hold in seconds (never shorter than the catalogue's)
    baseline_s: float  # quiet load before the first fault
    requests: dict[str, int]  # part (fault or "baseline") -> clean requests its bound needs
    capped: list[str]  # faults whose hold would pass MAX_HOLD_S: their bound stays undecidable
    run_s: float  # the whole suite, roughly

    def summary(self, rate: float, target: float) -> str:
        longest = max(self.holds.values(), default=0.0)
        text = (
            f"holds sized for the 95 % bound at {target:.3%}: baseline {self.baseline_s / 60:.1f} min "
            f"({self.requests.get('baseline', 0):,} requests), holds up to {longest:.0f}s, "
            f"{sum(self.requests.values()):,} clean requests in all at {rate:g} req/s — "
            f"about {self.run_s / 60:.0f} min"
        )
        if self.capped:
            text += f"; capped at {MAX_HOLD_S:.0f}s (raise --rate): {', '.join(self.capped)}"
        return text


def plan_suite(
    specs: list[FaultSpec],
    assumptions: dict[str, Assumption],
    target: float,
    rate: float,
    gap_s: float,
    overhead_s: float,
) -> SuitePlan:
    rated = {s.name: assumptions[s.name] for s in specs if s.name in assumptions}
    weights = {name: a.events_per_year * a.repair_s for name, a in rated.items()}
    weights["baseline"] = max(0.0, YEAR_S - sum(weights.values()))
    need = evidence_plan(weights, (1 - target) * YEAR_S)
    holds, capped = {}, []
    for spec in specs:
        wanted = math.ceil(2 * need.get(spec.name, 0) / rate)
        if wanted > MAX_HOLD_S:
            capped.append(spec.name)
        holds[spec.name] = min(MAX_HOLD_S, max(spec.hold_s, float(wanted)))
    baseline_s = max(gap_s, math.ceil(need["baseline"] / rate))
    run_s = baseline_s + sum(h + overhead_s for h in holds.values())
    return SuitePlan(holds, float(baseline_s), need, capped, run_s)
