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

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from compare_runs import print_report, report

NINESLAB = str(Path(sys.executable).parent / "nineslab")


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
        for i in range(runs):
            print(f"bench: {provider} suite {i + 1}/{runs} on {topology}", file=sys.stderr)
            suite = [NINESLAB, "suite", "--lab", lab, *[a for fault in only for a in ("--only", fault)], "--json"]
            res = subprocess.run(suite, stdout=subprocess.PIPE, text=True)
            out["runs"].append(json.loads(res.stdout)["run"])
    finally:
        start = time.monotonic()
        subprocess.run([NINESLAB, "destroy", "--lab", lab], capture_output=True)
        out["destroy_s"] = time.monotonic() - start
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--topology", default="3dc")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--providers", default="netns,docker")
    ap.add_argument("--lab", default="bxprov")
    ap.add_argument("--from", dest="existing", action="append", default=[], help="PROVIDER=RUN_DIR made before")
    ap.add_argument("--only", action="append", default=[], help="run only this fault in each suite")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
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
