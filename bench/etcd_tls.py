"""What etcd's mutual TLS and users cost, measured with TLS switched off as the control: for each mode,
deploys the topology (2az by default) with `security.etcd_tls` on or off, times the deploy and a no-op
redeploy, runs the full suite RUNS times under one load each, and destroys the lab. Prints per fault
the error-seconds of every run, the spread of the runs without TLS (min-max), and whether each run
with TLS falls inside it; then deploy times, the wall time of one read through nineslab's etcd client
(with TLS also with a fresh login per call), and p50/p99 (the whole run, and the quiet 10 s before each
fault, median over faults). Needs root; about 13 min per suite on 2az.

usage: .venv/bin/python bench/etcd_tls.py [--topology 2az] [--runs 2] [--modes off,on] [--json]
         [--from off=RUN_DIR ...]   (suites run before, added to the mode's runs; --modes "" runs nothing)
         [--only FAULT ...]         (each suite runs only these faults: more runs of one fault, same time)
  --runs 0 times deploy, no-op redeploy and destroy only.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from compare_runs import NINESLAB, arguments, destroy_s, print_report, report, suites

REPO = Path(__file__).resolve().parent.parent


def topology_file(topology: str, tls: bool, into: Path) -> Path:
    """The reference topology with only security.etcd_tls set (its name unchanged: the same estate)."""
    source = REPO / "topologies" / f"{topology}.yaml" if "/" not in topology else Path(topology)
    data = yaml.safe_load(source.read_text())
    data["security"] = {"etcd_tls": tls}
    path = into / f"{data['name']}-tls-{'on' if tls else 'off'}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def timed(*args: str) -> float:
    start = time.monotonic()
    if subprocess.run([NINESLAB, *args], stdout=subprocess.DEVNULL).returncode:
        sys.exit(f"nineslab {' '.join(args)} failed")
    return time.monotonic() - start


def call_ms(lab: str, calls: int = 20, fresh_login: bool = False) -> float:
    """Median wall time of one read through nineslab's etcd client (a checker run), in ms; with
    `fresh_login`, forgetting the remembered tokens before each (a password check per member per call)."""
    from nineslab.health import checks
    from nineslab.lab import Lab
    from nineslab.services import gateway

    client, times = Lab(lab).etcd, []
    for _ in range(calls):
        if fresh_login:
            checks._TOKENS.clear()
        start = time.monotonic()
        client.get(gateway.DIGEST_KEY)
        times.append((time.monotonic() - start) * 1000)
    return statistics.median(times)


def run_mode(topology: str, tls: bool, runs: int, lab: str, tmp: Path, only: list[str]) -> dict[str, Any]:
    path = str(topology_file(topology, tls, tmp))
    out: dict[str, Any] = {"runs": []}
    try:
        out["deploy_s"] = timed("deploy", "--topology", path, "--lab", lab)
        out["redeploy_s"] = timed("deploy", "--topology", path, "--lab", lab)
        out["call_ms"] = call_ms(lab)
        if tls:
            out["call_ms_fresh_login"] = call_ms(lab, fresh_login=True)
        out["runs"] = suites(lab, runs, only, f"TLS {'on' if tls else 'off'}")
    finally:
        out["destroy_s"] = destroy_s(lab)
    return out


def main() -> None:
    args = arguments(__doc__ or "", "2az", 2, ("modes", "off,on"), "bxtls").parse_args()
    modes: dict[str, dict[str, Any]] = {}
    for item in args.existing:
        mode, _, run = item.partition("=")
        modes.setdefault(mode, {"runs": []})["runs"].append(run)
    with tempfile.TemporaryDirectory(prefix="nineslab-tls-") as tmp:
        os.environ.setdefault("NINESLAB_REPORTS_DIR", str(Path(tmp) / "reports"))
        for mode in filter(None, args.modes.split(",")):
            fresh = run_mode(args.topology, mode == "on", args.runs, args.lab, Path(tmp), args.only)
            modes[mode] = {**fresh, "runs": modes.get(mode, {"runs": []})["runs"] + fresh["runs"]}
        out = report(modes, control="off", treated="on")
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print_report(out, label="TLS")


if __name__ == "__main__":
    main()
