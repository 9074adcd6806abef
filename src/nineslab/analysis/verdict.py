"""The tier verdict: the one place that decides it. The exit codes, every rendering and results.json
all take it from here. Only a proven PASS is green and exits 0.

Exit codes of every command that judges a tier (suite, report, demo, compare):
  0  PASS: the projection's one-sided 95 % upper bound meets the target
  1  FAIL, UNPROVEN or PARTIAL: the run went through, and the tier is not proven
  2  bad input: nothing was run or changed (a one-line error says what to fix)
  3  a route push was rolled back (`routes push` only)
  4  the run itself failed: INCOMPLETE or ABORTED (it says nothing about the tier)
  70 a bug in nineslab (its traceback in a file)
  130 interrupted"""

from __future__ import annotations

from typing import Any

PASS = "PASS"  # proven: the projection's one-sided 95 % upper bound of downtime still meets the target
UNPROVEN = "UNPROVEN"  # the point estimate meets the target, the bound does not: more evidence needed
FAIL = "FAIL"  # the projection misses the target, a steady state deviated, or etcd members disagreed after
PARTIAL = "PARTIAL"  # no failure seen, but a fault that applies was not run, or has no rate to project it
INCOMPLETE = "INCOMPLETE"  # not finished (no outcome, no samples, a fault never recovered) or a fault unmeasured
ABORTED = "ABORTED"  # an experiment did not run through, a stop condition was crossed, or the lab did not come back
VERDICTS = (PASS, UNPROVEN, FAIL, PARTIAL, INCOMPLETE, ABORTED)
LABELS = {PASS: "PASS (proven at 95 %)", UNPROVEN: "UNPROVEN (point estimate meets the target, the bound does not)"}
OLD_NAMES = {"PASS_POINT": UNPROVEN}  # results/2 called it so

EXIT_PASS, EXIT_NOT_PROVEN, EXIT_BAD_INPUT, EXIT_ROLLED_BACK, EXIT_RUN_FAILED = 0, 1, 2, 3, 4

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
    if results.get("not_run") or results.get("unrated"):
        return PARTIAL
    return PASS if results["projection"].get("proven") else UNPROVEN


def inconsistent(run: dict[str, Any]) -> bool:
    """etcd's members disagreed after the run: the estate lost or corrupted its only state."""
    return (run.get("etcd_consistency") or {}).get("consistent") is False


def label(v: str) -> str:
    """How a verdict is shown (a results/2 verdict by its new name)."""
    v = OLD_NAMES.get(v, v)
    return LABELS.get(v, v)


def ran_clean(run: dict[str, Any]) -> bool:
    """The run (its outcome) went through: every experiment completed without deviation, no stop
    condition stopped it, the lab came back and etcd's members did not disagree."""
    experiments = run.get("experiments", [])
    went_through = all(e.get("status") == COMPLETED and not e.get("deviated") for e in experiments)
    return run.get("healthy") is True and went_through and not run.get("stopped") and not inconsistent(run)


def exit_code(v: str, accept_point: bool = False) -> int:
    """0 for a proven PASS, 1 for a tier not proven, 4 for a run that failed itself (see the table
    above). accept_point (`report --require point`, asked for by name): an UNPROVEN exits 0 too."""
    v = OLD_NAMES.get(v, v)
    if v == PASS or (v == UNPROVEN and accept_point):
        return EXIT_PASS
    return EXIT_RUN_FAILED if v in (INCOMPLETE, ABORTED) else EXIT_NOT_PROVEN


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
    if results.get("unrated"):
        out.append(
            f"PARTIAL: faults without a rate in the assumptions (not projected): {', '.join(results['unrated'])}"
        )
    return out
