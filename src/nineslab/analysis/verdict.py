"""The tier verdict: the one place that decides it. The exit codes, every rendering and results.json
all take it from here. Only a PASS exits 0 (`--require bound`: only a PASS proven at 95 %)."""

from __future__ import annotations

from typing import Any

PASS = "PASS"  # proven: the projection's 95 % upper bound of downtime still meets the target
PASS_POINT = "PASS_POINT"  # the point estimate meets the target, the 95 % bound does not (more evidence needed)
FAIL = "FAIL"  # the projection misses the target, a steady state deviated, or etcd members disagreed after
PARTIAL = "PARTIAL"  # no failure seen, but a fault that applies to the topology was not run
INCOMPLETE = "INCOMPLETE"  # not finished (no outcome, no samples, a fault never recovered) or a fault unmeasured
ABORTED = "ABORTED"  # an experiment did not run through, a stop condition was crossed, or the lab did not come back
VERDICTS = (PASS, PASS_POINT, FAIL, PARTIAL, INCOMPLETE, ABORTED)
LABELS = {PASS: "PASS (proven at 95 %)", PASS_POINT: "PASS (point estimate only)"}

COMPLETED = "completed"  # Chaos Toolkit's status of an experiment that ran through


def verdict(results: dict[str, Any]) -> str:
    """results (see report.build) -> one of VERDICTS. Evidence first: a run that did not finish or did
    not run through says nothing about the tier, whatever its projection."""
    run = results.get("outcome") or {}
    if run.get("stopped"):  # stopped on purpose by its own bound: whatever else it lacks, it was aborted
        return ABORTED
    if not results["complete"]:
        return INCOMPLETE
    experiments = run.get("experiments", [])
    if run.get("healthy") is False or run.get("stopped") or any(e.get("status") != COMPLETED for e in experiments):
        return ABORTED
    if not results["projection"]["meets_target"] or any(e.get("deviated") for e in experiments):
        return FAIL
    if inconsistent(run):
        return FAIL
    if results.get("not_run"):
        return PARTIAL
    return PASS if results["projection"].get("proven") else PASS_POINT


def inconsistent(run: dict[str, Any]) -> bool:
    """etcd's members disagreed after the run: the estate lost or corrupted its only state."""
    return (run.get("etcd_consistency") or {}).get("consistent") is False


def label(v: str) -> str:
    """How a verdict is shown: PASS says whether it is proven at 95 % or a point estimate only."""
    return LABELS.get(v, v)


def ran_clean(run: dict[str, Any]) -> bool:
    """The run (its outcome) went through: every experiment completed without deviation, no stop
    condition stopped it, the lab came back and etcd's members did not disagree."""
    experiments = run.get("experiments", [])
    went_through = all(e.get("status") == COMPLETED and not e.get("deviated") for e in experiments)
    return run.get("healthy") is True and went_through and not run.get("stopped") and not inconsistent(run)


def exit_code(v: str, require_bound: bool = False) -> int:
    """0 for a PASS (with `require_bound`, only for one proven at 95 %), 1 for everything else."""
    return 0 if v == PASS or (v == PASS_POINT and not require_bound) else 1


def verdict_reasons(results: dict[str, Any]) -> list[str]:
    """Why the verdict is not a plain reading of the projection, one line each (empty for most runs)."""
    out = []
    if not results["complete"]:
        out.append(f"INCOMPLETE RUN: {'; '.join(results['incomplete_reasons'])}")
    run = results.get("outcome") or {}
    experiments = run.get("experiments", [])
    stopped = [f"{e['experiment']} ({e.get('status')})" for e in experiments if e.get("status") != COMPLETED]
    if stopped:
        out.append(f"ABORTED: did not run through: {', '.join(stopped)}")
    if run.get("healthy") is False:
        out.append("ABORTED: the lab did not come back after heal")
    if run.get("stopped"):
        stopped = run["stopped"]
        out.append(f"ABORTED: {stopped['reason']} (bound: {stopped['condition']}); every fault recovered at once")
    deviated = [e["experiment"] for e in experiments if e.get("deviated")]
    if deviated:
        out.append(f"FAIL: steady state deviated after: {', '.join(deviated)}")
    if inconsistent(run):
        out.append(f"FAIL: {run['etcd_consistency']['reason']}")
    if results.get("not_run"):
        missing = ", ".join(results["not_run"])
        out.append(f"PARTIAL: faults that apply to {results['topology']} but were not run: {missing}")
    return out
