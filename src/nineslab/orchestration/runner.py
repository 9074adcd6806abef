"""`nineslab chaos run`, `suite` and `compare`: each fault a Chaos Toolkit experiment (rollbacks
always) run in this process, one run directory per invocation. Every run has the Jepsen shape: it
refuses to start on an unhealthy lab, runs healthy -> load -> inject -> hold -> recover, ends with
heal-everything and a health check, and writes its outcome and its report. Between a suite's faults
only what the last one left is swept; nothing of the orchestrator's own runs inside a fault's window
but the experiment itself."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from nineslab.analysis.core import AFTER_RECOVERY_S
from nineslab.analysis.verdict import ran_clean
from nineslab.chaos.current_run import CurrentRun, start_run
from nineslab.chaos.experiments import check_experiment, experiment_path, inject_arguments
from nineslab.chaos.inprocess import ExperimentRunner
from nineslab.defaults import HEAL_WAIT_S, RATE
from nineslab.errors import NinesError
from nineslab.faults import FaultSpec, applicable, heal, load_catalogue, sweep_after
from nineslab.faults import engine as faults_engine
from nineslab.faults.catalogue import find, overridden
from nineslab.health import unhealthy_hosts
from nineslab.health.consistency import etcd_consistency
from nineslab.lab import Lab
from nineslab.orchestration.sizing import plan_suite
from nineslab.orchestration.stop import Guardrail, StopCondition
from nineslab.paths import ASSUMPTIONS_FILE
from nineslab.report import write_report
from nineslab.report.build import load_assumptions
from nineslab.report.render import headline
from nineslab.runs import Run, write_json
from nineslab.runs.records import Outcome
from nineslab.topology import Topology

Progress = Callable[[str], None]
# The quiet period between two faults of a suite is a fault's whole after-recovery window, so that the
# tail of one fault (stale connections, health checks rising) is charged to it, not to the next one.
GAP_S = AFTER_RECOVERY_S
STOP_WATCH_MAX_S = 3600.0  # a stop condition's watch on one experiment ends by itself after this
OVERHEAD_S = GAP_S + 3.0  # per experiment beyond its hold: hypothesis probes, the sweep, the gap (for the estimate)


def applicable_faults(lab: Lab, topology: Topology) -> list[FaultSpec]:
    """The catalogue's faults that apply to this lab, in catalogue (= run) order."""
    return [s for s in load_catalogue() if applicable(s, topology, lab.provider.capabilities)]


def require_rates(specs: list[FaultSpec], topology: Topology, rates: dict[str, Any]) -> None:
    """Every fault that applies needs a rate: one without it could not be projected, and the run could
    not be better than PARTIAL. One line naming it and the file; nothing is touched."""
    unrated = [s.name for s in specs if s.name not in rates]
    if unrated:
        one = len(unrated) == 1
        raise NinesError(
            f"{ASSUMPTIONS_FILE}: no rate for {', '.join(unrated)}, which {'applies' if one else 'apply'} "
            f"to {topology.name} — add events_per_year, repair_s and source for "
            f"{'it' if one else 'each'} (a citation, or `assumption:` and the reasoning)"
        )


def _finish(lab: Lab, run_dir: Path, say: Progress, outcome: Outcome) -> Outcome:
    """Every run ends with heal-everything and a health check (loudly if the lab did not come back),
    then its outcome is written and its report made."""
    say("heal: undoing every fault and checking health")
    healed = heal(lab, wait_s=HEAL_WAIT_S)
    write_json(Run(run_dir).status_after, healed["status"])
    write_json(Run(run_dir).heal, {k: v for k, v in healed.items() if k != "status"})
    if not healed["healthy"]:
        say("!!! THE LAB DID NOT COME BACK — see status-after.json; `nineslab deploy` repairs it")
    say("etcd: comparing every member's hash of the store (endpoint hashkv)")
    consistency = etcd_consistency(lab.provider, lab.topology())
    if consistency["consistent"] is False:
        say(f"!!! ETCD IS INCONSISTENT — {consistency['reason']}")
    elif consistency["consistent"] is None:
        say(f"etcd consistency not checked: {consistency['reason']}")
    outcome["run"] = str(run_dir)
    outcome["healthy"] = healed["healthy"]
    outcome["heal_actions"] = healed["actions"]
    outcome["heal_errors"] = healed["errors"]
    outcome["etcd_consistency"] = consistency
    outcome["clean"] = ran_clean(dict(outcome))
    write_json(Run(run_dir).outcome, outcome)
    say("report: analysing the samples")
    report = write_report(run_dir)
    requests = report["requests"]
    # The report's own count: an error, a non-2xx/3xx answer, or lag + latency over the SLO. Requests
    # the load generator held up (its stalls) are counted apart: failed in the bound only.
    stalled = report["client"]["left_out_requests"]
    outcome["requests"] = requests["total"] + stalled
    outcome["failed"] = requests["total"] - requests["good"]
    outcome["stalled"] = stalled
    outcome["verdict"] = report["verdict"]
    outcome["headline"] = headline(report)
    outcome["report"] = str(Run(run_dir).report_html)
    return outcome


def dry_run(lab: Lab, topology: Topology, paths: list[Path], holds: dict[str, float] | None = None) -> dict[str, Any]:
    """What a run of these (checked) experiment files would do, planned now; nothing is written or
    touched — no run directory, no state file, no rule, no process. Hosts chosen by etcd leadership or
    a floating address are the ones of this moment; the run chooses again when it gets there."""
    catalogue = load_catalogue()
    plans = []
    for path in paths:
        for args in inject_arguments(path):
            spec = find(str(args["fault"]), topology, catalogue, lab.provider.capabilities)
            hold = (holds or {}).get(spec.name, args.get("hold_s"))
            spec = overridden(spec, str(path), args.get("select"), args.get("role"), hold, args.get("params"))
            plans.append(faults_engine.dry_run(lab, spec))
    status = lab.status(topology)
    return {
        "dry_run": True,
        "topology": topology.name,
        "lab": lab.name,
        "faults": plans,
        "hold_s": sum(p["hold_s"] for p in plans),
        # a real run refuses an unhealthy lab: say so now rather than at the start
        "would_start": status["healthy"],
        "down": unhealthy_hosts(status),
    }


def run_experiment(
    lab: Lab, name_or_path: str, say: Progress, dry: bool = False, stop: StopCondition | None = None
) -> dict[str, Any]:
    topology = lab.topology()
    path = experiment_path(name_or_path).resolve()
    fault = check_experiment(path, topology, lab.provider.capabilities)
    if dry:
        return dry_run(lab, topology, [path])
    run_dir = start_run(lab, topology, fault)
    say(f"run {run_dir.name}: experiment {path.name} on lab {lab.name} ({topology.name})")
    current = CurrentRun(lab, run_dir, external_load=False)  # its load control runs the load around it
    with Guardrail(lab.name, run_dir, stop, say, max_s=STOP_WATCH_MAX_S, stopping=current.stopping) as guard:
        result = ExperimentRunner(current, Run(run_dir).chaos_log, say).run(path, Run(run_dir).journal)
    outcome: Outcome = {
        "topology": topology.name,
        "fault": fault,
        "experiments": [result.as_dict()],
        "applicable": [s.name for s in applicable_faults(lab, topology)],
        "stop_condition": stop.describe() if stop else None,
        "stopped": guard.tripped,
    }
    return dict(_finish(lab, run_dir, say, outcome))


def with_hold(experiment: Path, hold_s: float, into: Path) -> Path:
    """A copy of an experiment file (the user's edits kept) whose inject actions hold for `hold_s`."""
    exp = json.loads(experiment.read_text())
    for act in exp["method"]:
        provider = act.get("provider", {}) if isinstance(act, dict) else {}
        if provider.get("func") == "inject_fault":
            provider.setdefault("arguments", {})["hold_s"] = hold_s
    into.mkdir(parents=True, exist_ok=True)
    path = into / experiment.name
    path.write_text(json.dumps(exp, indent=2, ensure_ascii=False) + "\n")
    return path


def run_suite(
    lab: Lab,
    say: Progress,
    rate: float = RATE,
    gap_s: float = GAP_S,
    only: list[str] | None = None,
    holds_for_target: bool = False,
    plan_only: bool = False,
    processes: int = 1,
    dry: bool = False,
    stop: StopCondition | None = None,
    workers: int = 0,
    repeat: int = 1,
) -> dict[str, Any]:
    """Every fault that applies to the deployed topology, in catalogue order, under one continuous load.
    holds_for_target: holds and baseline sized so that the 95 % bound can meet the target (printed with
    the run time first); plan_only: print that plan and stop. repeat: each fault that many times in a
    row (its transition varies from run to run; the bound takes the largest). Refuses, before anything
    is touched, a fault that applies without a rate: it could not be projected."""
    topology = lab.topology()
    every = applicable_faults(lab, topology)
    rates = load_assumptions()
    require_rates(every, topology, rates)
    specs = [s for s in every if not only or s.name in only]
    paths = [experiment_path(s.name).resolve() for s in specs]
    for path in paths:
        check_experiment(path, topology, lab.provider.capabilities)  # every file is checked before the lab is touched
    baseline_s = gap_s
    plan = None
    if holds_for_target or plan_only:
        plan = plan_suite(specs, rates, topology.target, rate, gap_s, OVERHEAD_S)
        say(plan.summary(rate, topology.target))
        if plan_only:
            return {"topology": topology.name, "rate": rate, "plan": asdict(plan)}
        baseline_s = plan.baseline_s
    if dry:
        planned = dry_run(lab, topology, paths, plan.holds if plan else None)
        run_s = baseline_s + sum(f["hold_s"] + OVERHEAD_S for f in planned["faults"])
        return {**planned, "rate": rate, "processes": processes, "baseline_s": baseline_s, "run_s": run_s}
    run_dir = start_run(lab, topology, f"suite-{topology.name}")
    Run(run_dir).journals.mkdir()
    if plan is not None:
        paths = [with_hold(p, plan.holds[s.name], Run(run_dir).experiments) for s, p in zip(specs, paths, strict=True)]
        specs = [replace(s, hold_s=plan.holds[s.name]) for s in specs]
    write_json(
        Run(run_dir).suite,
        {
            "topology": topology.name,
            "lab": lab.name,
            "rate": rate,
            "processes": processes,
            "workers": workers,
            "faults": [s.name for s in specs],
            "repeat": repeat,
            "holds": {s.name: s.hold_s for s in specs},
            "baseline_s": baseline_s,
            "plan": asdict(plan) if plan else None,
            "started": time.time(),
        },
    )
    runs = [(spec, path, k) for spec, path in zip(specs, paths, strict=True) for k in range(1, repeat + 1)]
    remaining = sum(s.hold_s + OVERHEAD_S for s, _, _ in runs)
    load = lab.load(run_dir, rate=rate, duration_s=baseline_s + remaining + 600, processes=processes, workers=workers)
    load.start()
    load.wait_started()  # the baseline is timed from the first requests, not from Locust's start
    results = []
    load_stopped: str | None = None
    stopped_before: str | None = None
    current = CurrentRun(lab, run_dir, external_load=True)
    experiments = ExperimentRunner(current, Run(run_dir).chaos_log, say)
    guard = Guardrail(lab.name, run_dir, stop, say, max_s=baseline_s + remaining + 600, stopping=current.stopping)
    swept: list[str] = []
    try:
        with guard:
            if baseline_s > gap_s:
                say(f"baseline: {baseline_s / 60:.1f} min of load before the first fault")
            guard.wait(baseline_s)  # baseline
            for i, (spec, path, k) in enumerate(runs, 1):
                if guard.tripped:  # crossed: no further fault starts
                    stopped_before = spec.name
                    break
                if not load.alive():  # a fault without load would be unmeasured: stop here, loudly
                    say(f"!!! the load generator stopped (see locust.log) — {spec.name} and the rest are not run")
                    load_stopped = spec.name
                    break
                nth = f" run {k}/{repeat}" if repeat > 1 else ""
                say(f"[{i}/{len(runs)}] {spec.name}{nth} (hold {spec.hold_s:g}s) — about {remaining / 60:.1f} min left")
                started = time.monotonic()
                result = experiments.run(path, Run(run_dir).journal_of(spec.name, k, repeat))
                results.append(result.as_dict())
                remaining -= spec.hold_s + OVERHEAD_S
                say(
                    f"[{i}/{len(runs)}] {spec.name}{nth}: {result.status}"
                    f"{' (deviated)' if result.deviated else ''} in {time.monotonic() - started:.0f}s"
                )
                guard.wait(gap_s)  # a quiet period between faults keeps their windows apart
                # outside every window: what this fault left (its op's sweep), not a heal of everything
                swept += [f"after {spec.name}: {x}" for x in sweep_after(lab, spec)]
    finally:
        load.stop()
    outcome: Outcome = {
        "topology": topology.name,
        "experiments": results,
        "applicable": [s.name for s in every],
        "load_stopped_before": load_stopped,
        "stop_condition": stop.describe() if stop else None,
        "stopped": guard.tripped,
        "stopped_before": stopped_before,
        "swept_between_faults": swept,
    }
    return dict(_finish(lab, run_dir, say, outcome))


def run_compare(
    topologies: list[str], lab_name: str, say: Progress, rate: float = RATE, processes: int = 1
) -> list[dict[str, Any]]:
    """The same fault schedule on several topologies: each one deployed as lab `lab_name`, its suite run
    (which writes its report), then destroyed — also when something fails. Returns each run's results."""
    results = []
    for topo in topologies:
        lab = Lab(lab_name)
        try:
            say(f"compare: deploying {topo} as lab {lab_name}")
            lab.deploy(topo, progress=say)
            suite = run_suite(lab, say, rate=rate, processes=processes)
            results.append(json.loads(Run(Path(suite["run"])).results.read_text()))
        finally:
            lab.destroy()
    return results
