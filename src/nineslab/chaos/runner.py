"""`nineslab chaos run` and `nineslab suite`: stock `chaos run` as a subprocess (rollbacks always),
one run directory per invocation, heal-everything and a health check at the end of every run."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nineslab.analysis.core import AFTER_RECOVERY_S
from nineslab.chaos.experiments import check_experiment, experiment_path
from nineslab.faults import applicable, heal, load_catalogue
from nineslab.lab import Lab
from nineslab.load import LoadRun, read_samples
from nineslab.paths import venv_tool
from nineslab.report.store import new_run_dir, write_json
from nineslab.versions import component_versions

Progress = Callable[[str], None]
# The quiet period between two faults of a suite is a fault's whole after-recovery window, so that the
# tail of one fault (stale connections, health checks rising) is charged to it, not to the next one.
GAP_S = AFTER_RECOVERY_S
OVERHEAD_S = GAP_S + 3.0  # per experiment beyond its hold: hypothesis probes, heal, the gap (for the estimate)


def _chaos(
    lab: Lab, experiment: Path, run_dir: Path, journal: Path, say: Progress, extra_env: dict[str, str]
) -> dict[str, Any]:
    env = dict(os.environ, NINESLAB_LAB=lab.name, NINESLAB_RUN_DIR=str(run_dir), **extra_env)
    cmd = [
        str(venv_tool("chaos")),
        "--no-log-file",
        "run",
        "--rollback-strategy",
        "always",
        "--journal-path",
        str(journal),
        str(experiment),
    ]
    with (
        (run_dir / "chaos.log").open("a") as log,
        subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=run_dir
        ) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            text = line.strip()
            if "INFO]" in text or "ERROR]" in text or "WARNING]" in text:
                say("chaos: " + text.split("] ", 1)[-1])
        rc = proc.wait()
    try:
        j = json.loads(journal.read_text())
    except (OSError, ValueError):
        j = {}
    return {
        "experiment": experiment.stem,
        "exit_code": rc,
        "status": j.get("status", "no journal"),
        "deviated": bool(j.get("deviated", False)),
        "journal": str(journal),
    }


def _finish(lab: Lab, run_dir: Path, say: Progress) -> dict[str, Any]:
    """Every run ends with heal-everything and a health check; loudly if the lab did not come back."""
    say("heal: undoing every fault and checking health")
    result = heal(lab, wait_s=60.0)
    write_json(run_dir / "status-after.json", result["status"])
    write_json(run_dir / "heal.json", {k: v for k, v in result.items() if k != "status"})
    if not result["healthy"]:
        say("!!! THE LAB DID NOT COME BACK — see status-after.json; `nineslab deploy` repairs it")
    return {"healthy": result["healthy"], "heal_actions": result["actions"], "heal_errors": result["errors"]}


def _samples_summary(run_dir: Path) -> dict[str, int]:
    samples = read_samples(run_dir / "samples")
    return {"requests": len(samples), "failed": sum(1 for s in samples if not s.ok)}


def run_experiment(lab: Lab, name_or_path: str, say: Progress) -> dict[str, Any]:
    topology = lab.topology()
    path = experiment_path(name_or_path).resolve()
    fault = check_experiment(path, topology)
    run_dir = new_run_dir(fault)
    say(f"run {run_dir.name}: experiment {path.name} on lab {lab.name} ({topology.name})")
    result = _chaos(lab, path, run_dir, run_dir / "journal.json", say, {})
    result.update(_finish(lab, run_dir, say))
    result.update(_samples_summary(run_dir), run=str(run_dir), topology=topology.name, fault=fault)
    result["passed"] = result["status"] == "completed" and not result["deviated"] and result["healthy"]
    write_json(run_dir / "result.json", result)
    return result


def run_suite(
    lab: Lab, say: Progress, rate: float = 200.0, gap_s: float = GAP_S, only: list[str] | None = None
) -> dict[str, Any]:
    """Every fault that applies to the deployed topology, in catalogue order, under one continuous load."""
    topology = lab.topology()
    specs = [s for s in load_catalogue() if applicable(s, topology) and (not only or s.name in only)]
    paths = [experiment_path(s.name).resolve() for s in specs]
    for path in paths:
        check_experiment(path, topology)  # every file is checked before the lab is touched
    run_dir = new_run_dir(f"suite-{topology.name}")
    (run_dir / "journals").mkdir()
    write_json(run_dir / "status-before.json", lab.status(topology))
    write_json(run_dir / "versions.json", component_versions())
    write_json(
        run_dir / "suite.json",
        {
            "topology": topology.name,
            "lab": lab.name,
            "rate": rate,
            "faults": [s.name for s in specs],
            "started": time.time(),
        },
    )
    remaining = sum(s.hold_s + OVERHEAD_S for s in specs)
    load = LoadRun(lab, run_dir, rate=rate, duration_s=remaining + 600)
    load.start()
    results = []
    try:
        time.sleep(gap_s)  # baseline
        for i, (spec, path) in enumerate(zip(specs, paths, strict=True), 1):
            say(f"[{i}/{len(specs)}] {spec.name} (hold {spec.hold_s:g}s) — about {remaining / 60:.1f} min left")
            started = time.monotonic()
            results.append(
                _chaos(
                    lab, path, run_dir, run_dir / "journals" / f"{spec.name}.json", say, {"NINESLAB_LOAD": "external"}
                )
            )
            remaining -= spec.hold_s + OVERHEAD_S
            say(
                f"[{i}/{len(specs)}] {spec.name}: {results[-1]['status']}"
                f"{' (deviated)' if results[-1]['deviated'] else ''} in {time.monotonic() - started:.0f}s"
            )
            time.sleep(gap_s)  # a quiet period between faults keeps their windows apart
    finally:
        load.stop()
        summary = _finish(lab, run_dir, say)
    out = {
        "run": str(run_dir),
        "topology": topology.name,
        "experiments": results,
        **summary,
        **_samples_summary(run_dir),
    }
    out["passed"] = summary["healthy"] and all(r["status"] == "completed" and not r["deviated"] for r in results)
    write_json(run_dir / "result.json", out)
    return out
