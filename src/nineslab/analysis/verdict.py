"""The tier verdict: the one place that decides it. The exit codes, every rendering and results.json
all take it from here. Only PASS exits 0."""

from __future__ import annotations

from typing import Any

PASS = "PASS"
FAIL = "FAIL"  # the projection misses the tier's target, or an experiment's steady state deviated
PARTIAL = "PARTIAL"  # no failure seen, but a fault that applies to the topology was not run
INCOMPLETE = "INCOMPLETE"  # the run did not finish: no outcome, no samples, a fault never recovered
ABORTED = "ABORTED"  # an experiment did not run through, or the lab did not come back after it
VERDICTS = (PASS, FAIL, PARTIAL, INCOMPLETE, ABORTED)

COMPLETED = "completed"  # Chaos Toolkit's status of an experiment that ran through


def verdict(results: dict[str, Any]) -> str:
    """results (see report.build) -> one of VERDICTS. Evidence first: a run that did not finish or did
    not run through says nothing about the tier, whatever its projection."""
    if not results["complete"]:
        return INCOMPLETE
    run = results.get("outcome") or {}
    experiments = run.get("experiments", [])
    if run.get("healthy") is False or any(e.get("status") != COMPLETED for e in experiments):
        return ABORTED
    if not results["projection"]["meets_target"] or any(e.get("deviated") for e in experiments):
        return FAIL
    if results.get("not_run"):
        return PARTIAL
    return PASS


def ran_clean(experiments: list[dict[str, Any]], healthy: bool) -> bool:
    """The run went through: every experiment completed without deviation and the lab came back."""
    return healthy and all(e.get("status") == COMPLETED and not e.get("deviated") for e in experiments)


def exit_code(v: str) -> int:
    return 0 if v == PASS else 1


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
    deviated = [e["experiment"] for e in experiments if e.get("deviated")]
    if deviated:
        out.append(f"FAIL: steady state deviated after: {', '.join(deviated)}")
    if results.get("not_run"):
        missing = ", ".join(results["not_run"])
        out.append(f"PARTIAL: faults that apply to {results['topology']} but were not run: {missing}")
    return out
