"""The checker: a run's requests and fault events -> its fault windows, the client's stalls and what
each fault cost, with the evidence the projection needs. Pure: the report layer reads the run's files
and hands them in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nineslab.analysis.core import (
    AFTER_RECOVERY_S,
    MAX_STALL_SHARE,
    SampleArrays,
    client_stalls,
    fault_impact,
    merge_spans,
    overlapping,
    within,
)
from nineslab.analysis.projection import BaselineEvidence, FaultRun
from nineslab.clocks import effective_start, recovered_end, stamps
from nineslab.load.samples import Heartbeat
from nineslab.runs.events import FaultEvent


def fault_windows(events: list[FaultEvent]) -> list[dict[str, Any]]:
    """Inject/recover events paired per fault, in order; a missing recover leaves `recover_end` None."""
    windows: list[dict[str, Any]] = []
    for ev in events:
        if ev["phase"] == "inject":
            windows.append(
                {
                    "fault": ev["fault"],
                    "kind": ev.get("kind", ""),
                    "op": ev.get("op", ""),
                    "hosts": ev.get("hosts", []),
                    "hold_s": ev.get("hold_s", 0.0),
                    "inject_start": ev["start"],  # the inject action began (its plan, then its op)
                    # The fault can take effect from the moment its op starts to apply (after the
                    # action's set-up), or where a machine stamped its act, from then: its window and
                    # time to recover start there.
                    "effective_start": effective_start(dict(ev)),
                    "recover_end": None,
                    # where a machine stamped it: the stamps, the offsets' bound, unmeasured clocks
                    "clock": stamps(dict(ev), "acted") or None,
                }
            )
        elif ev["phase"] == "recover":
            for w in reversed(windows):
                if w["fault"] == ev["fault"] and w["recover_end"] is None:
                    w["recover_end"] = recovered_end(dict(ev))
                    w["clock"] = {**(w["clock"] or {}), **stamps(dict(ev), "recovered")} or None
                    break
    return windows


def after_windows(injects: list[float], recovered: list[float]) -> list[float]:
    """How long after its recovery each fault is still charged for: AFTER_RECOVERY_S, cut at the next
    fault's inject, so that a suite's back-to-back faults never charge each other's errors."""
    return [
        max(0.0, min(AFTER_RECOVERY_S, min((i for i in injects if i > inject), default=float("inf")) - end))
        for inject, end in zip(injects, recovered, strict=True)
    ]


def stall_spans(heartbeats: list[Heartbeat], arr: SampleArrays, overloaded: list[float]) -> list[tuple[float, float]]:
    """When the load generator itself stalled (lagged past its threshold, or shed the requests started
    at `overloaded` it could not send): spans of wall-clock time, merged."""
    lag = arr.lag_ms if arr.lag_ms is not None else np.zeros(arr.start.size)
    return merge_spans(client_stalls(heartbeats, arr.start, lag) + [(t, t + 0.001) for t in overloaded])


def overlap_s(spans: list[tuple[float, float]], a: float, b: float) -> float:
    """Seconds of the (disjoint) spans that fall inside [a, b]."""
    return sum(min(b, y) - max(a, x) for x, y in spans if x < b and y > a)


def held_up(arr: SampleArrays, stalls: list[tuple[float, float]]) -> npt.NDArray[np.bool_]:
    """Requests the client held up: started in a stall, or in flight when one came (their answer waited
    for the client) — a request's life runs from its start to its answer or its deadline."""
    return overlapping(arr.start, arr.start + arr.from_intended() / 1000, stalls)


@dataclass(frozen=True)
class Checked:
    """What the checker found: per fault window its impact (and the run's evidence for the projection),
    the baseline's evidence, and why the run is incomplete (empty: it is not)."""

    windows: list[dict[str, Any]]  # fault_windows' rows, recover_end filled in, with "impact"
    spans: list[tuple[float, float]]  # each window as charged: in-flight lead -> after-recovery tail
    runs: dict[str, list[FaultRun]]
    baseline: BaselineEvidence
    incomplete: list[str]


def check_faults(
    arr: SampleArrays,
    ok: npt.NDArray[np.bool_],
    stalled: npt.NDArray[np.bool_],
    stalls: list[tuple[float, float]],
    windows: list[dict[str, Any]],
    in_flight_s: float,
) -> Checked:
    """Every fault window's impact from all requests (`ok`: each one's success; `stalled`: held up by
    the client, left out of the point and failed in the bound), and the baseline outside them. A
    request started up to one deadline (`in_flight_s`) before a fault lands may still be in flight then:
    what it loses is the fault's (its window opens that much earlier), never the baseline's."""
    incomplete = []
    if any(w["recover_end"] is None for w in windows):
        incomplete.append("a fault has no recorded recovery")
    span_end = float(arr.start[-1]) if arr.start.size else 0.0
    starts = [w["effective_start"] for w in windows]
    ends = [w["recover_end"] if w["recover_end"] is not None else span_end for w in windows]
    afters = after_windows([a - in_flight_s for a in starts], ends)
    spans = [(a - in_flight_s, e + after) for a, e, after in zip(starts, ends, afters, strict=True)]
    for i in range(1, len(windows)):  # windows are in inject order
        if starts[i] < ends[i - 1]:
            earlier, later = windows[i - 1]["fault"], windows[i]["fault"]
            incomplete.append(f"fault windows overlap: {later} was injected before {earlier} recovered")
    checked = []
    runs: dict[str, list[FaultRun]] = {}
    for w, end, after_s, (a, b) in zip(windows, ends, afters, spans, strict=True):
        imp = fault_impact(
            arr.start, ok, w["effective_start"], end, after_s=after_s, in_flight_s=in_flight_s, stalled=stalled
        )
        stalled_s = overlap_s(stalls, a, b)
        imp["stalled_s"] = stalled_s
        imp["stall_share"] = stalled_s / (b - a) if b > a else 0.0
        if imp["stall_share"] > MAX_STALL_SHARE:
            imp["measured"] = False
            imp["unmeasured_because"].append(
                f"the load generator itself stalled for {stalled_s:.2f} s, {imp['stall_share']:.0%} of its window "
                f"(more than {MAX_STALL_SHARE:.0%})"
            )
        if not imp["measured"]:
            incomplete.append(f"fault {w['fault']} is unmeasured: {'; '.join(imp['unmeasured_because'])}")
        checked.append({**w, "recover_end": end, "impact": imp})
        steady = imp["steady"]
        runs.setdefault(w["fault"], []).append(
            FaultRun(
                error_seconds=imp["error_seconds"],
                hold_s=w["hold_s"],
                steady_good=steady["good"],
                steady_total=steady["total"],
                error_seconds_hi=imp["error_seconds_hi"],
                steady_stalled=steady["stalled"],
                stalled_s=stalled_s,
            )
        )
    outside = ~within(arr.start, sorted(spans))
    baseline = BaselineEvidence(
        good=int(np.count_nonzero(ok & outside & ~stalled)),
        total=int(np.count_nonzero(outside & ~stalled)),
        stalled=int(np.count_nonzero(outside & stalled)),
        stalled_s=max(0.0, sum(y - x for x, y in stalls) - sum(overlap_s(stalls, a, b) for a, b in spans)),
    )
    return Checked(checked, spans, runs, baseline, incomplete)
