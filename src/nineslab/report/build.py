"""A run directory -> results (the versioned dict behind results.json and every rendering)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from nineslab import analysis
from nineslab.analysis import checker
from nineslab.analysis.core import AFTER_RECOVERY_S
from nineslab.clocks import clocks_from_json, clocks_to_json
from nineslab.defaults import DEADLINE_S, SLO_MS
from nineslab.errors import NinesError
from nineslab.faults import load_catalogue
from nineslab.load.samples import CLIENT_OVERLOAD, read_heartbeats, read_samples
from nineslab.paths import ASSUMPTIONS_FILE
from nineslab.runs import Run
from nineslab.runs.events import read_events
from nineslab.textfile import read_user_file

SCHEMA = "nineslab.results/4"  # 4: clock offsets in seconds; 3: latency from the intended start, stalls priced
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


def build_results(
    run_dir: Path, assumptions: dict[str, analysis.Assumption] | None = None, slo_ms: float = SLO_MS
) -> dict[str, Any]:
    run = Run(run_dir)
    before = run.read(run.status_before)
    outcome = run.read(run.outcome)
    topology = before.get("topology") or outcome.get("topology") or "unknown"
    incomplete = []
    if not outcome:
        incomplete.append(f"the run did not finish (no {run.outcome.name}): interrupted or still running")
    if "target" not in before:
        incomplete.append(f"no {run.status_before.name} with the topology's target: the tier to judge is unknown")
    target = float(before.get("target") or 0.999)
    samples, dropped = read_samples(run.samples, count_dropped=True)
    if not samples:
        incomplete.append("no samples recorded")
    windows = checker.fault_windows(read_events(run_dir))
    in_flight_s = float(run.read(run.load_settings).get("deadline_s") or DEADLINE_S)
    # The client's own stalls: their requests measure the load generator, not the estate. They are left
    # out of every point figure and counted as failed in the bound, inside fault windows and out; only a
    # fault whose window they cover past MAX_STALL_SHARE is unmeasured.
    arr_all = analysis.from_samples(samples)
    overloaded = [x.start for x in samples if x.error == CLIENT_OVERLOAD]
    stalls = checker.stall_spans(read_heartbeats(run.samples), arr_all, overloaded)
    stalled = checker.held_up(arr_all, stalls)
    ok_all = arr_all.ok(slo_ms)
    checked = checker.check_faults(arr_all, ok_all, stalled, stalls, windows, in_flight_s)
    incomplete += checked.incomplete
    arr = arr_all.take(~stalled)
    ok = ok_all[~stalled]
    latency = arr.from_intended()  # what the SLO counts: from the intended start
    span_start = float(arr.start[0]) if len(arr) else 0.0
    span_end = float(arr.start[-1]) if len(arr) else 0.0
    expected = _expected(topology)
    # Where the estate has a WAF tier, what its escape cost: requests answered without a WAF seeing them.
    waf_tier = any(h.get("role") == "waf" for h in before.get("hosts", []))
    faults = []
    for w, (a, b) in zip(checked.windows, checked.spans, strict=True):
        end = w["recover_end"]
        faults.append(
            {
                **w,
                "latency": analysis.latency_shift(arr.start, latency, arr.http_ok, a, w["effective_start"], end),
                "unfiltered": (
                    analysis.unfiltered(arr.start, arr.http_ok, arr.filtered, w["effective_start"], end)
                    if waf_tier
                    else None
                ),
                "expected": expected.get(w["fault"]),
                "panel": analysis.series(arr.start, ok, latency, w["inject_start"] - PANEL_LEAD_S, b, PANEL_BIN_S),
            }
        )
    rates = assumptions if assumptions is not None else load_assumptions()
    proj = analysis.project(checked.runs, rates, target, baseline=checked.baseline)
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
        "load": run.read(run.load_settings),
        # machines with clocks of their own: each one's offset against the client's ({} on one clock)
        "clocks": clocks_to_json(clocks_from_json(run.read(run.clocks))),
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
        "versions": run.read(run.versions),
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
