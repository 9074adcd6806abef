"""The long run: can this estate's 95 % bound meet its target? Deploys a lab, prints the
`suite --holds-for-target` plan (holds and baseline sized so a perfect estate's bound meets the target),
runs it, prints the verdict, the projection (point and bound) and what was unmeasured, and destroys the
lab. 3dc needs 557,506 clean requests: about 60 min at 200 req/s, 28 min at 500, 18 min at 1,000
(use --processes 2 above ~200 req/s on two cores). Needs root.
usage: .venv/bin/python bench/long_run.py [--topology 3dc] [--rate 500] [--processes 2] [--lab bxlong]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

NINESLAB = str(Path(sys.executable).parent / "nineslab")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--topology", default="3dc")
    ap.add_argument("--rate", type=float, default=500.0)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--lab", default="bxlong")
    args = ap.parse_args()
    suite = ["suite", "--lab", args.lab, "--holds-for-target", "--rate", str(args.rate)]
    suite += ["--processes", str(args.processes)]
    try:
        if subprocess.run([NINESLAB, "deploy", "--topology", args.topology, "--lab", args.lab]).returncode:
            sys.exit(f"deploy of {args.topology} failed")
        subprocess.run([NINESLAB, *suite, "--plan"])
        res = subprocess.run([NINESLAB, *suite, "--json"], stdout=subprocess.PIPE, text=True)
        run = Path(json.loads(res.stdout)["run"])
        results = json.loads((run / "results.json").read_text())
    finally:
        subprocess.run([NINESLAB, "destroy", "--lab", args.lab], capture_output=True)
    p = results["projection"]
    print(f"{args.topology} at {args.rate:g} req/s x {args.processes}: {results['verdict']} ({run.name})")
    print(
        f"  projected {p['availability'] * 100:.5f} % ({p['nines']:.2f} nines), "
        f"95 % bound {p['availability_lo'] * 100:.5f} % ({p['nines_lo']:.2f}); target {p['target'] * 100:g} %"
    )
    print(f"  baseline: {p['baseline']['failed']} failed of {p['baseline']['requests']} requests")
    for reason in results["incomplete_reasons"]:
        print(f"  incomplete: {reason}")


if __name__ == "__main__":
    main()
