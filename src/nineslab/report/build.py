"""A run directory -> results (the versioned dict behind results.json and every rendering)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from nineslab import analysis
from nineslab.analysis.core import AFTER_RECOVERY_S
from nineslab.defaults import DEADLINE_S, SLO_MS
from nineslab.errors import NinesError
from nineslab.faults import load_catalogue
from nineslab.faults.timeline import CLOCKS_FILE, effective_start, recovered_end, stamps
from nineslab.load.samples import CLIENT_OVERLOAD, Sample, read_heartbeats, read_samples
from nineslab.paths import ASSUMPTIONS_FILE
from nineslab.runs import OUTCOME_FILE
from nineslab.textfile import read_user_file

SCHEMA = "nineslab.results/3"  # 3: latency from the intended start, stalls priced in the bound, unrated
PANEL_LEAD_S = 5.0  # a fault's panel starts this long before its inject
PANEL_BIN_S = 0.5  # and is drawn in bins this wide (100 requests each at 200 req/s)


def _expected(topology: str) -> dict[str, str]:
    """What the catalogue says each fault should do to this topology (shown beside what was measured);
    an unreadable catalogue only loses the text."""
    try:
        return {s.name: s.expected_for(topology) for s in load_catalogue()}
    except NinesError:
        return {}


def load_assumptions(path: Path | None = None) -> dict[str, analysis.Assumption]:
    """The fault rates and repair times of the projection; every value checked (one-line errors):
    numbers >= 0, and a source that cites something or gives the reasoning."""
    path = path or ASSUMPTIONS_FILE
    text = read_user_file(path, "assumptions file")
    try:
        raw = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        detail = " ".join(str(exc).split())
        raise NinesError(f"{path}: cannot read assumptions ({detail:.120}) — fix the file") from None
    faults = raw.get("faults") if isinstance(raw, dict) else None
    if not isinstance(faults, dict):
        raise NinesError(f"{path}: expected a `faults:` mapping fault -> {{events_per_year, repair_s, source}}")
    out = {}
    for name, a in faults.items():
        where = f"{path}: faults.{name}"
        if not isinstance(a, dict):
            raise NinesError(f"{where}: expected {{events_per_year, repair_s, source}}")
        values = []
        for key in ("events_per_year", "repair_s"):
            v = a.get(key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise NinesError(f"{where}.{key}: {v!r} is not a number >= 0 — give one")
            values.append(float(v))
        source = str(a.get("source") or "").strip()
        if not source or source.lower().rstrip(":. ") == "assumption":
            raise NinesError(
                f"{where}.source: {source or 'missing'!r} — cite where the numbers come from, "
                "or write `assumption: ` and the reasoning"
            )
        out[str(name)] = analysis.Assumption(values[0], values[1], source)
    return out


def fault_windows(run_dir: Path) -> list[dict[str, Any]]:
    """Inject/recover events paired per fault, in order; a missing recover leaves `recover_end` None."""
    path = run_dir / "faults.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
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
                    "inject_start": ev["start"],
                    # The fault can take effect from the moment its op starts to apply (after the
                    # action's set-up), or where a machine stamped its act, from then: its window and
                    # time to recover start there.
                    "effective_start": effective_start(ev),
                    "recover_end": None,
                    # where a machine stamped it: the stamps, the offsets' bound, unmeasured clocks
                    "clock": stamps(ev, "acted") or None,
                }
            )
        elif ev["phase"] == "recover":
            for w in reversed(windows):
                if w["fault"] == ev["fault"] and w["recover_end"] is None:
                    w["recover_end"] = recovered_end(ev)
                    w["clock"] = {**(w["clock"] or {}), **stamps(ev, "recovered")} or None
                    break
    return windows


def after_windows(injects: list[float], recovered: list[float]) -> list[float]:
    """How long after its recovery each fault is still charged for: AFTER_RECOVERY_S, cut at the next
    fault's inject, so that a suite's back-to-back faults never charge each other's errors."""
    return [
        max(0.0, min(AFTER_RECOVERY_S, min((i for i in injects if i > inject), default=float("inf")) - end))
        for inject, end in zip(injects, recovered, strict=True)
    ]


def client_stall_spans(samples_dir: Path, samples: list[Sample]) -> list[tuple[float, float]]:
    """When the load generator itself stalled (lagged past its threshold, or shed requests it could not
    start): spans of wall-clock time, merged. Outside fault windows their requests are left out."""
    start = np.array([x.start for x in samples], dtype=np.float64)
    lag = np.array([x.lag_ms for x in samples], dtype=np.float64)
    stalls = analysis.client_stalls(read_heartbeats(samples_dir), start, lag)
    return analysis.merge_spans(stalls + [(x.start, x.start + 0.001) for x in samples if x.error == CLIENT_OVERLOAD])


def overlap_s(spans: list[tuple[float, float]], a: float, b: float) -> float:
    """Seconds of the (disjoint) spans that fall inside [a, b]."""
    return sum(min(b, y) - max(a, x) for x, y in spans if x < b and y > a)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return {}


def build_results(
    run_dir: Path, assumptions: dict[str, analysis.Assumption] | None = None, slo_ms: float = SLO_MS
) -> dict[str, Any]:
    before = _read_json(run_dir / "status-before.json")
    outcome = _read_json(run_dir / OUTCOME_FILE)
    topology = before.get("topology") or outcome.get("topology") or "unknown"
    incomplete = []
    if not outcome:
        incomplete.append(f"the run did not finish (no {OUTCOME_FILE}): interrupted or still running")
    if "target" not in before:
        incomplete.append("no status-before.json with the topology's target: the tier to judge is unknown")
    target = float(before.get("target") or 0.999)
    samples, dropped = read_samples(run_dir / "samples", count_dropped=True)
    if not samples:
        incomplete.append("no samples recorded")
    windows = fault_windows(run_dir)
    if any(w["recover_end"] is None for w in windows):
        incomplete.append("a fault has no recorded recovery")
    span_end = samples[-1].start if samples else 0.0
    starts = [w["effective_start"] for w in windows]
    ends = [w["recover_end"] if w["recover_end"] is not None else span_end for w in windows]
    # A request started up to one deadline before a fault lands may still be in flight then: what it
    # loses is the fault's (its window opens that much earlier), never the baseline's.
    in_flight_s = float(_read_json(run_dir / "load.json").get("deadline_s") or DEADLINE_S)
    afters = after_windows([a - in_flight_s for a in starts], ends)
    spans = [(a - in_flight_s, e + after) for a, e, after in zip(starts, ends, afters, strict=True)]
    for i in range(1, len(windows)):  # windows are in inject order
        if starts[i] < ends[i - 1]:
            earlier, later = windows[i - 1]["fault"], windows[i]["fault"]
            incomplete.append(f"fault windows overlap: {later} was injected before {earlier} recovered")
    # The client's own stalls: their requests measure the load generator, not the estate. They are left
    # out of every point figure and counted as failed in the bound, inside fault windows and out; only a
    # fault whose window they cover past MAX_STALL_SHARE is unmeasured.
    arr_all = analysis.from_samples(samples)
    stalls = client_stall_spans(run_dir / "samples", samples)
    # held up: started in a stall, or in flight when one came (its answer waited for the client)
    life_end = arr_all.start + arr_all.from_intended() / 1000
    stalled = analysis.overlapping(arr_all.start, life_end, stalls)
    ok_all = arr_all.ok(slo_ms)
    arr = arr_all.take(~stalled)
    ok = ok_all[~stalled]
    latency = arr.from_intended()  # what the SLO counts: from the intended start
    span_start = float(arr.start[0]) if len(arr) else 0.0
    span_end = float(arr.start[-1]) if len(arr) else 0.0
    expected = _expected(topology)
    # Where the estate has a WAF tier, what its escape cost: requests answered without a WAF seeing them.
    waf_tier = any(h.get("role") == "waf" for h in before.get("hosts", []))
    faults = []
    runs: dict[str, list[analysis.FaultRun]] = {}
    for w, end, after_s, (a, b) in zip(windows, ends, afters, spans, strict=True):
        imp = analysis.fault_impact(
            arr_all.start, ok_all, w["effective_start"], end, after_s=after_s, in_flight_s=in_flight_s, stalled=stalled
        )
        stalled_s = overlap_s(stalls, a, b)
        imp["stalled_s"] = stalled_s
        imp["stall_share"] = stalled_s / (b - a) if b > a else 0.0
        if imp["stall_share"] > analysis.MAX_STALL_SHARE:
            imp["measured"] = False
            imp["unmeasured_because"].append(
                f"the load generator itself stalled for {stalled_s:.2f} s, {imp['stall_share']:.0%} of its window "
                f"(more than {analysis.MAX_STALL_SHARE:.0%})"
            )
        if not imp["measured"]:
            incomplete.append(f"fault {w['fault']} is unmeasured: {'; '.join(imp['unmeasured_because'])}")
        panel = analysis.series(arr.start, ok, latency, w["inject_start"] - PANEL_LEAD_S, b, PANEL_BIN_S)
        shift = analysis.latency_shift(arr.start, latency, arr.http_ok, a, w["effective_start"], end)
        faults.append(
            {
                **w,
                "recover_end": end,
                "impact": imp,
                "latency": shift,
                "unfiltered": (
                    analysis.unfiltered(arr.start, arr.http_ok, arr.filtered, w["effective_start"], end)
                    if waf_tier
                    else None
                ),
                "expected": expected.get(w["fault"]),
                "panel": panel,
            }
        )
        steady = imp["steady"]
        runs.setdefault(w["fault"], []).append(
            analysis.FaultRun(
                error_seconds=imp["error_seconds"],
                hold_s=w["hold_s"],
                steady_good=steady["good"],
                steady_total=steady["total"],
                error_seconds_hi=imp["error_seconds_hi"],
                steady_stalled=steady["stalled"],
                stalled_s=stalled_s,
            )
        )
    outside = ~analysis.within(arr_all.start, sorted(spans))
    baseline = analysis.BaselineEvidence(
        good=int(np.count_nonzero(ok_all & outside & ~stalled)),
        total=int(np.count_nonzero(outside & ~stalled)),
        stalled=int(np.count_nonzero(outside & stalled)),
        stalled_s=max(0.0, sum(y - x for x, y in stalls) - sum(overlap_s(stalls, a, b) for a, b in spans)),
    )
    rates = assumptions if assumptions is not None else load_assumptions()
    proj = analysis.project(runs, rates, target, baseline=baseline)
    # Every fault that applies must carry a rate: one run without it cannot be better than PARTIAL.
    unrated = sorted(set(proj["unrated"]) | {f for f in outcome.get("applicable", []) if f not in rates})
    outs = analysis.outages(arr.start, ok)
    outs_sorted = sorted(outs, key=lambda o: o[0] - o[1])
    req = analysis.request_availability(ok)
    run_faults = {w["fault"] for w in windows}
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "run": run_dir.name,
        "topology": topology,
        "target": target,
        "escape": before.get("escape"),  # the escape switches of the estate measured (None before they existed)
        "generated_at": time.time(),
        "complete": not incomplete,
        "incomplete_reasons": incomplete,
        "slo_ms": slo_ms,
        "rules": {
            "success": f"HTTP 2xx/3xx, no error, and lag + latency <= {slo_ms:g} ms (lag = actual start - "
            "intended start: latency counts from the intended start)",
            "load": "open loop: requests fired on a seeded Poisson schedule; each counted at its intended start",
            "time_based": "windows of 1 s and 100 ms; up when >= 99% of the requests started in it succeeded; "
            "windows without requests are left out (counted as empty_windows)",
            "outage": "a maximal run of failed requests: first failure's start -> next success's start",
            "fault_window": "effective inject - the request deadline (requests in flight when it lands) -> "
            f"recovery + {AFTER_RECOVERY_S:g} s, cut where the next fault's window opens",
            "clock": "one time line: a fault acting on a machine with its own clock is stamped there and "
            "corrected by that clock's offset against the client's, measured at the run's start",
            "client_stall": f"the load generator lagged > {analysis.CLIENT_STALL_MS:g} ms (scheduling or event loop): "
            "its requests (started in a stall, or in flight when one came) are left out of the point estimate "
            "and counted as failed in the bound, in fault "
            f"windows and the baseline alike; a fault is unmeasured only when stalls cover more than "
            f"{analysis.MAX_STALL_SHARE:.0%} of its window",
            "bound": f"{analysis.BOUND_NAME}; a fault run K times: mean transition in the point, the largest "
            "in the bound",
            "rates": "every fault that applies needs a rate in the assumptions file; one without it makes the "
            "verdict PARTIAL",
        },
        "span": {"start": span_start, "end": span_end, "seconds": span_end - span_start},
        "requests": req.as_dict(),
        "client": {
            "stalls": len(stalls),
            "stall_seconds": sum(b - a for a, b in stalls),
            # left out of the point estimate, counted as failed in the bound
            "left_out_requests": int(np.count_nonzero(stalled)),
            "max_stall_share": max((f["impact"]["stall_share"] for f in faults), default=0.0),
            "malformed_lines": dropped,
        },
        "time_1s": analysis.time_availability(arr.start, ok, 1.0),
        "time_100ms": analysis.time_availability(arr.start, ok, 0.1),
        # from the intended start, as the SLO counts it
        "latency_ms": analysis.latency_percentiles(latency[arr.http_ok]),
        "longest_gap_s": analysis.longest_gap(arr.start, ok),
        "outage_count": len(outs),
        "outages": [{"start": a, "end": b, "seconds": b - a} for a, b in outs_sorted[:20]],
        "errors": _error_counts(arr, ok),
        "waf": analysis.unfiltered(arr.start, arr.http_ok, arr.filtered) if waf_tier else None,
        "by": {key: analysis.breakdown(arr, ok, key) for key in ("zone", "lb", "gateway")},
        "faults": faults,
        "projection": proj,
        "outcome": outcome,
        # etcd's members compared after the run (None: a run made before the check existed, or a plain load)
        "etcd_consistency": outcome.get("etcd_consistency"),
        "load": _read_json(run_dir / "load.json"),
        # machines with clocks of their own: each one's offset against the client's ({} on one clock)
        "clocks": _read_json(run_dir / CLOCKS_FILE),
        # Faults that apply to the topology (as the run recorded them) but were not run.
        "not_run": [f for f in outcome.get("applicable", []) if f not in run_faults],
        # Faults that were run or apply but have no rate in the assumptions: not projected.
        "unrated": unrated,
        # whole 1 s bins: the last one is not a sliver ending at the last request
        "timeline": analysis.series(
            arr.start,
            ok,
            latency,
            span_start,
            span_start + (math.floor(span_end - span_start) + 1.0 if len(arr) else 0.0),
            1.0,
        ),
        "versions": _read_json(run_dir / "versions.json"),
    }
    results["verdict"] = analysis.verdict(results)
    return results


def _error_counts(arr: Any, ok: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, name in enumerate(arr.labels.get("error", [])):
        n = int(np.count_nonzero(arr.error == i))
        if name and n:
            out[name] = n
    slow = int(np.count_nonzero(arr.http_ok & ~ok))
    if slow:
        out["over_slo"] = slow
    return out
