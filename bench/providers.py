"""The full fault catalogue on both providers: for each, deploys the topology (3dc by default) with
`--provider netns|docker`, times the deploy, runs the whole suite RUNS times under one load each (every
fault that applies — on docker that includes the host faults only containers have), and destroys the
lab. Prints per fault the error-seconds of every run side by side, the spread of the netns runs, which
docker runs fall outside it and a permutation test; then deploy times and p50/p99. Needs root; a 3dc
suite takes about 15 minutes.

usage: .venv/bin/python bench/providers.py [--topology 3dc] [--runs 1] [--providers netns,docker] [--json]
         [--from netns=RUN_DIR ...]   (suites run before, added to that provider's runs; --providers "" runs none)
         [--only FAULT ...]           (each suite runs only these faults)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from compare_runs import NINESLAB, arguments, destroy_s, print_report, report, suites


def timed(*args: str) -> float:
    start = time.monotonic()
    if subprocess.run([NINESLAB, *args], stdout=subprocess.DEVNULL).returncode:
        sys.exit(f"bench: nineslab {' '.join(args)} failed")
    return time.monotonic() - start


def run_provider(provider: str, topology: str, runs: int, lab: str, only: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": []}
    try:
        out["deploy_s"] = timed("deploy", "--topology", topology, "--provider", provider, "--lab", lab)
        out["redeploy_s"] = timed("deploy", "--topology", topology, "--provider", provider, "--lab", lab)
        out["runs"] = suites(lab, runs, only, f"{provider} {topology}")
    finally:
        out["destroy_s"] = destroy_s(lab)
    return out


def main() -> None:
    args = arguments(__doc__ or "", "3dc", 1, ("providers", "netns,docker"), "bxprov").parse_args()
    modes: dict[str, dict[str, Any]] = {"netns": {"runs": []}, "docker": {"runs": []}}
    for item in args.existing:
        provider, _, run = item.partition("=")
        modes.setdefault(provider, {"runs": []})["runs"].append(run)
    # the runs land in the run store ($NINESLAB_REPORTS_DIR, else reports/): each has its own report
    for provider in filter(None, args.providers.split(",")):
        fresh = run_provider(provider, args.topology, args.runs, args.lab, args.only)
        modes[provider] = {**fresh, "runs": modes[provider]["runs"] + fresh["runs"]}
    out = report(modes, control="netns", treated="docker")
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print_report(out)


if __name__ == "__main__":
    main()
