"""A run directory -> results (the versioned dict behind results.json and every rendering)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from nineslab import analysis
from nineslab.analysis.core import AFTER_RECOVERY_S, window_counts
from nineslab.defaults import SLO_MS
from nineslab.errors import NinesError
from nineslab.load import read_samples
from nineslab.paths import ASSUMPTIONS_FILE
from nineslab.runs import OUTCOME_FILE

SCHEMA = "nineslab.results/2"


def load_assumptions(path: Path | None = None) -> dict[str, analysis.Assumption]:
    path = path or ASSUMPTIONS_FILE
    try:
        raw = yaml.safe_load(path.read_text())
        return {
            name: analysis.Assumption(
                float(a["events_per_year"]), float(a["repair_s"]), str(a.get("source", "assumption"))
            )
            for name, a in raw["faults"].items()
        }
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise NinesError(
            f"{path}: cannot read assumptions ({exc!s:.80}) — each fault needs events_per_year, repair_s, source"
        ) from None


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
                    "recover_end": None,
                }
            )
        elif ev["phase"] == "recover":
            for w in reversed(windows):
                if w["fault"] == ev["fault"] and w["recover_end"] is None:
                    w["recover_end"] = ev["end"]
                    break
    return windows


def after_windows(injects: list[float], recovered: list[float]) -> list[float]:
    """How long after its recovery each fault is still charged for: AFTER_RECOVERY_S, cut at the next
    fault's inject, so that a suite's back-to-back faults never charge each other's errors."""
    return [
        max(0.0, min(AFTER_RECOVERY_S, min((i for i in injects if i > inject), default=float("inf")) - end))
        for inject, end in zip(injects, recovered, strict=True)
    ]


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
    target = float(before.get("target") or 0.999)
    samples = read_samples(run_dir / "samples")
    arr = analysis.from_samples(samples)
    ok = arr.ok(slo_ms)
    incomplete = []
    if not outcome:
        incomplete.append(f"the run did not finish (no {OUTCOME_FILE}): interrupted or still running")
    if not samples:
        incomplete.append("no samples recorded")
    windows = fault_windows(run_dir)
    if any(w["recover_end"] is None for w in windows):
        incomplete.append("a fault has no recorded recovery")
    span_start = float(arr.start[0]) if len(arr) else 0.0
    span_end = float(arr.start[-1]) if len(arr) else 0.0
    injects = [w["inject_start"] for w in windows]
    ends = [w["recover_end"] if w["recover_end"] is not None else span_end for w in windows]
    faults = []
    for w, end, after_s in zip(windows, ends, after_windows(injects, ends), strict=True):
        imp = analysis.fault_impact(arr.start, ok, w["inject_start"], end, after_s=after_s)
        faults.append({**w, "recover_end": end, "impact": imp})
    impacts = {
        f["fault"]: {
            "error_seconds": f["impact"]["error_seconds"],
            "hold_s": f["hold_s"],
            "steady_error_ratio": f["impact"]["steady"]["error_ratio"],
        }
        for f in faults
    }
    proj = analysis.project(impacts, assumptions if assumptions is not None else load_assumptions(), target)
    outs = analysis.outages(arr.start, ok)
    outs_sorted = sorted(outs, key=lambda o: o[0] - o[1])
    req = analysis.request_availability(ok)
    run_faults = {w["fault"] for w in windows}
    results: dict[str, Any] = {
        "schema": SCHEMA,
        "run": run_dir.name,
        "topology": topology,
        "target": target,
        "generated_at": time.time(),
        "complete": not incomplete,
        "incomplete_reasons": incomplete,
        "slo_ms": slo_ms,
        "rules": {
            "success": f"HTTP 2xx/3xx, no error, latency <= {slo_ms:g} ms",
            "time_based": "windows of 1 s and 100 ms; up when >= 99% of the requests started in it succeeded; "
            "windows without requests are left out (counted as empty_windows)",
            "outage": "a maximal run of failed requests: first failure's start -> next success's start",
            "fault_window": f"inject -> recovery + {AFTER_RECOVERY_S:g} s, cut at the next fault's inject",
        },
        "span": {"start": span_start, "end": span_end, "seconds": span_end - span_start},
        "requests": req.as_dict(),
        "time_1s": analysis.time_availability(arr.start, ok, 1.0),
        "time_100ms": analysis.time_availability(arr.start, ok, 0.1),
        "latency_ms": analysis.latency_percentiles(arr.latency_ms[arr.http_ok]),
        "longest_gap_s": analysis.longest_gap(arr.start, ok),
        "outage_count": len(outs),
        "outages": [{"start": a, "end": b, "seconds": b - a} for a, b in outs_sorted[:20]],
        "errors": _error_counts(arr, ok),
        "by": {key: analysis.breakdown(arr, ok, key) for key in ("zone", "lb", "gateway")},
        "faults": faults,
        "projection": proj,
        "outcome": outcome,
        # Faults that apply to the topology (as the run recorded them) but were not run.
        "not_run": [f for f in outcome.get("applicable", []) if f not in run_faults],
        "timeline": _timeline(arr, ok, span_start, span_end),
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


def _timeline(arr: Any, ok: Any, t0: float, t1: float) -> dict[str, Any]:
    if not len(arr):
        return {"t0": t0, "rps": [], "error_ratio": [], "p99_ms": []}
    total, good = window_counts(arr.start, ok, t0, t1 + 1e-9, 1.0)
    idx = np.minimum(((arr.start - t0) // 1.0).astype(np.int64), total.size - 1)
    p99 = []
    order = np.argsort(idx, kind="stable")
    bounds = np.searchsorted(idx[order], np.arange(total.size + 1))
    for k in range(total.size):
        lat = arr.latency_ms[order[bounds[k] : bounds[k + 1]]]
        p99.append(float(np.percentile(lat, 99)) if lat.size else None)
    err = [None if t == 0 else round(1 - g / t, 4) for t, g in zip(total.tolist(), good.tolist(), strict=True)]
    return {"t0": t0, "rps": total.tolist(), "error_ratio": err, "p99_ms": p99}
