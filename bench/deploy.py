"""Deploy / no-op redeploy / destroy wall time per topology (median of N runs), through the real CLI.

Goal (issue 2): 3dc deploy <= 20 s with a warm venv, destroy <= 5 s. Needs root.
usage: .venv/bin/python bench/deploy.py [--runs 3] [--topologies 1az,2az,3dc] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NINESLAB = str(Path(sys.executable).parent / "nineslab")
LAB = "bench"


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
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ["NINESLAB_STATE_DIR"] = tempfile.mkdtemp(prefix="nineslab-bench-")
    subprocess.run([NINESLAB, "destroy", "--lab", LAB], capture_output=True)
    results = {}
    for topo in args.topologies.split(","):
        deploy, redeploy, destroy = [], [], []
        for i in range(args.runs):
            deploy.append(timed("deploy", "--topology", topo))
            redeploy.append(timed("deploy", "--topology", topo))
            destroy.append(timed("destroy"))
            print(
                f"{topo} run {i + 1}/{args.runs}: deploy {deploy[-1]:.1f}s  no-op redeploy {redeploy[-1]:.1f}s  "
                f"destroy {destroy[-1]:.1f}s",
                file=sys.stderr,
            )
        results[topo] = {
            "deploy_s": round(statistics.median(deploy), 2),
            "noop_redeploy_s": round(statistics.median(redeploy), 2),
            "destroy_s": round(statistics.median(destroy), 2),
            "runs": args.runs,
        }
    os.rmdir(os.environ["NINESLAB_STATE_DIR"])
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'topology':<9} {'deploy':>8} {'no-op':>8} {'destroy':>8}   (median of {args.runs}, seconds)")
    for topo, r in results.items():
        print(f"{topo:<9} {r['deploy_s']:>8.1f} {r['noop_redeploy_s']:>8.1f} {r['destroy_s']:>8.1f}")
    print("goal: 3dc deploy <= 20 s, destroy <= 5 s")


if __name__ == "__main__":
    main()
