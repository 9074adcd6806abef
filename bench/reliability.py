"""nineslab's own reliability, in figures: a kill -9 campaign (every command killed at seeded random
moments on a real 2az lab, each kill followed by heal or deploy, `status --hashkv` after each, a final
destroy checked for leftovers) and the input fuzzers (tests/unit/fuzz, N cases per file kind, fresh
random cases). Prints kill points tried / labs restored / leftovers found, fuzz cases per kind /
tracebacks, hash checks run / mismatches; exits 1 unless every kill point was restored, nothing was
left, no fuzz case gave a traceback and no hash check disagreed. Needs root; about 1 min per kill point.
usage: .venv/bin/python bench/reliability.py [--points 20] [--seed 1] [--fuzz 1000] [--json]"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from nineslab.rigs.kill9 import run_campaign

REPO = Path(__file__).resolve().parent.parent

LAB = "rel"


def fuzz(cases: int, stats: Path) -> dict[str, Any]:
    env = dict(os.environ, NINESLAB_FUZZ_EXAMPLES=str(cases), NINESLAB_FUZZ_STATS=str(stats), NINESLAB_FUZZ_RANDOM="1")
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/fuzz"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    counts: dict[str, int] = json.loads(stats.read_text()) if stats.is_file() else {}
    kinds = sorted({k.split(".")[0] for k in counts})
    return {
        "passed": res.returncode == 0,
        "kinds": {
            k: {"cases": counts.get(f"{k}.cases", 0), "tracebacks": counts.get(f"{k}.tracebacks", 0)} for k in kinds
        },
        "failures": [line for line in res.stdout.splitlines() if line.startswith("FAILED")],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=20, help="kill points (every command in turn)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--fuzz", type=int, default=1000, help="fuzz cases per file kind")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="nineslab-reliability-") as tmp:
        os.environ.setdefault("NINESLAB_STATE_DIR", str(Path(tmp) / "state"))
        os.environ["NINESLAB_REPORTS_DIR"] = str(Path(tmp) / "reports")
        say = (lambda _m: None) if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
        campaign = run_campaign(LAB, "2az", args.seed, args.points, Path(tmp) / "reports", say)
        fuzzed = fuzz(args.fuzz, Path(tmp) / "fuzz.json")
    tracebacks = sum(k["tracebacks"] for k in fuzzed["kinds"].values())
    ok = campaign["passed"] and campaign["mismatches"] == 0 and fuzzed["passed"] and tracebacks == 0
    if args.json:
        print(json.dumps({"campaign": campaign, "fuzz": fuzzed, "passed": ok}, indent=1))
    else:
        print(
            f"kill points tried {campaign['kill_points']} / labs restored {campaign['restored']} / "
            f"leftovers found {len(campaign['leftovers'])}"
        )
        for kind, k in fuzzed["kinds"].items():
            print(f"fuzz {kind:<12} cases {k['cases']:>5} / tracebacks {k['tracebacks']}")
        print(f"hash checks run {campaign['hash_checks']} / mismatches {campaign['mismatches']}")
        for p in campaign["points"]:
            if not p["restored"] or p["error"]:
                print(f"  NOT RESTORED: {p['command']} killed after {p['after_s']}s — {p['error'] or p['restored_by']}")
        for line in [*campaign["leftovers"], *fuzzed["failures"]]:
            print(f"  {line}")
        print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
