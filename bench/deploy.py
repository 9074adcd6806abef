"""Deploy / no-op redeploy / destroy wall time per provider and topology (median of N runs), through the
real CLI. Providers alternate within each run, so their ratio is measured under the same machine load.

Goals: 3dc deploy <= 20 s on netns with a warm venv (issue 2), < 60 s on docker with the image cached
(issue 14); destroy <= 5 s. The docker image is built first and not timed. Needs root.
usage: .venv/bin/python bench/deploy.py [--runs 3] [--topologies 1az,2az,3dc] [--providers netns,docker] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NINESLAB = str(Path(sys.executable).parent / "nineslab")
LAB = "bench"
GOALS = {"netns": 20.0, "docker": 60.0}  # 3dc deploy, seconds


def timed(*args: str) -> float:
    start = time.monotonic()
    res = subprocess.run([NINESLAB, *args, "--lab", LAB], capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - start
    if res.returncode != 0:
        sys.exit(f"bench: nineslab {' '.join(args)} failed: {res.stderr.strip()[-500:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--topologies", default="1az,2az,3dc")
    ap.add_argument("--providers", default="netns,docker")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    providers = args.providers.split(",")
    state = tempfile.mkdtemp(prefix="nineslab-bench-")
    os.environ["NINESLAB_STATE_DIR"] = state
    subprocess.run([NINESLAB, "destroy", "--lab", LAB], capture_output=True)
    if "docker" in providers:  # images cached: the build is a one-off, not part of a deploy
        print("bench: building the docker hosts' image (not timed)", file=sys.stderr)
        subprocess.run([NINESLAB, "images", "--build"], check=True, stdout=subprocess.DEVNULL)
    results: dict[str, dict[str, dict[str, float]]] = {p: {} for p in providers}
    try:
        for topo in args.topologies.split(","):
            times: dict[str, dict[str, list[float]]] = {p: {"deploy": [], "noop": [], "destroy": []} for p in providers}
            for i in range(args.runs):
                for p in providers:
                    t = times[p]
                    t["deploy"].append(timed("deploy", "--topology", topo, "--provider", p))
                    t["noop"].append(timed("deploy", "--topology", topo, "--provider", p))
                    t["destroy"].append(timed("destroy"))
                    print(
                        f"{p} {topo} run {i + 1}/{args.runs}: deploy {t['deploy'][-1]:.1f}s  "
                        f"no-op redeploy {t['noop'][-1]:.1f}s  destroy {t['destroy'][-1]:.1f}s",
                        file=sys.stderr,
                    )
            for p in providers:
                results[p][topo] = {
                    "deploy_s": round(statistics.median(times[p]["deploy"]), 2),
                    "noop_redeploy_s": round(statistics.median(times[p]["noop"]), 2),
                    "destroy_s": round(statistics.median(times[p]["destroy"]), 2),
                    "runs": args.runs,
                }
    finally:
        subprocess.run([NINESLAB, "destroy", "--lab", LAB], capture_output=True)
        if "docker" in providers:
            from nineslab.providers.docker.engine import Engine

            Engine(Path(state) / "docker-engine").remove()
        shutil.rmtree(state, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'provider':<9} {'topology':<9} {'deploy':>8} {'no-op':>8} {'destroy':>8}   (median of {args.runs}, s)")
    for p, by_topo in results.items():
        for topo, r in by_topo.items():
            print(f"{p:<9} {topo:<9} {r['deploy_s']:>8.1f} {r['noop_redeploy_s']:>8.1f} {r['destroy_s']:>8.1f}")
    for p in providers:
        if "3dc" in results[p]:
            d, goal = results[p]["3dc"]["deploy_s"], GOALS.get(p, 60.0)
            print(f"goal: {p} 3dc deploy <= {goal:.0f} s — {'met' if d <= goal else 'NOT met'} ({d:.1f} s)")


if __name__ == "__main__":
    main()
