"""Deploy / no-op redeploy / repair of one daemon / destroy wall time per provider and topology (median
of N runs), through the real CLI, with each deploy's share per phase: process start (python, imports),
hosts (Terraform, the router's fence, certificates), services (Ansible) and the end-to-end check (with
the routes' guard on a redeploy). Providers alternate within each run, so their ratio is measured
under the same machine load. The repair step holds one gateway's Traefik down first (`break_one_daemon`).

Goals (issue 29): 3dc deploy <= 15 s and a no-op redeploy <= 2 s on netns with a warm venv, docker
within 1.5x of netns with its image cached; destroy <= 2 s. The docker image is built first and not
timed. Needs root.
usage: .venv/bin/python bench/deploy.py [--runs 3] [--topologies 1az,2az,3dc] [--providers netns,docker] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NINESLAB = str(Path(sys.executable).parent / "nineslab")
LAB = "bench"
GOALS = {"deploy": 15.0, "noop": 2.0, "destroy": 2.0}  # netns 3dc, seconds
PHASES = ("start", "hosts", "services", "check")


def timed(*args: str) -> tuple[float, dict[str, float]]:
    """Wall seconds of one CLI call, and for a deploy its phases (they add up to the wall time)."""
    start = time.monotonic()
    res = subprocess.run([NINESLAB, *args, "--lab", LAB], capture_output=True, text=True, timeout=600)
    elapsed = time.monotonic() - start
    if res.returncode != 0:
        sys.exit(f"bench: nineslab {' '.join(args)} failed: {res.stderr.strip()[-500:]}")
    if args[0] != "deploy":
        return elapsed, {}
    r = json.loads(res.stdout)
    phases = {
        "start": elapsed - r["seconds"],
        "hosts": r["terraform_seconds"],
        "services": r["ansible_seconds"],
        "check": r["seconds"] - r["terraform_seconds"] - r["ansible_seconds"],
    }
    return elapsed, phases


def break_one_daemon(state: Path) -> None:
    """The first gateway's Traefik down, as a deploy must repair it: held down through its supervisor
    (runsv would start a killed one again at once), or SIGKILLed by its pidfile where it has none."""
    host = sorted((state / LAB / "hosts").glob("gw-*"))[0]
    sv = host / "sv" / "traefik"
    if sv.is_dir():
        subprocess.run(["sv", "-w", "7", "down", str(sv)], check=True, capture_output=True)
    else:
        os.kill(int((host / "run" / "traefik.pid").read_text()), signal.SIGKILL)
        time.sleep(0.2)


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
    results: dict[str, dict[str, dict[str, Any]]] = {p: {} for p in providers}
    try:
        for topo in args.topologies.split(","):
            steps = ("deploy", "noop", "repair", "destroy")
            times: dict[str, dict[str, list[float]]] = {p: {k: [] for k in steps} for p in providers}
            phases: dict[str, dict[str, dict[str, list[float]]]] = {
                p: {k: {ph: [] for ph in PHASES} for k in ("deploy", "noop", "repair")} for p in providers
            }
            for i in range(args.runs):
                for p in providers:
                    t = times[p]
                    for step, call in (
                        ("deploy", ("deploy", "--topology", topo, "--provider", p, "--json")),
                        ("noop", ("deploy", "--topology", topo, "--provider", p, "--json")),
                        ("repair", ("deploy", "--topology", topo, "--provider", p, "--json")),
                        ("destroy", ("destroy",)),
                    ):
                        if step == "repair":
                            break_one_daemon(Path(state))
                        wall, split = timed(*call)
                        t[step].append(wall)
                        for ph, v in split.items():
                            phases[p][step][ph].append(v)
                    print(
                        f"{p} {topo} run {i + 1}/{args.runs}: deploy {t['deploy'][-1]:.1f}s  "
                        f"no-op redeploy {t['noop'][-1]:.1f}s  repair one daemon {t['repair'][-1]:.1f}s  "
                        f"destroy {t['destroy'][-1]:.1f}s",
                        file=sys.stderr,
                    )
            for p in providers:
                results[p][topo] = {
                    "deploy_s": round(statistics.median(times[p]["deploy"]), 2),
                    "noop_redeploy_s": round(statistics.median(times[p]["noop"]), 2),
                    "repair_one_daemon_s": round(statistics.median(times[p]["repair"]), 2),
                    "destroy_s": round(statistics.median(times[p]["destroy"]), 2),
                    "runs": args.runs,
                    # median seconds per phase of the deploy and of the no-op redeploy
                    "phases": {
                        step: {ph: round(statistics.median(v), 2) for ph, v in by.items()}
                        for step, by in phases[p].items()
                    },
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
    head = f"{'provider':<9} {'topology':<9} {'deploy':>8} {'no-op':>8} {'repair':>8} {'destroy':>8}"
    print(f"{head}   (median of {args.runs}, s)")
    for p, by_topo in results.items():
        for topo, r in by_topo.items():
            print(
                f"{p:<9} {topo:<9} {r['deploy_s']:>8.1f} {r['noop_redeploy_s']:>8.1f} "
                f"{r['repair_one_daemon_s']:>8.1f} {r['destroy_s']:>8.1f}"
            )
            for step, split in r["phases"].items():
                total = sum(split.values()) or 1.0
                shares = "  ".join(f"{ph} {v:.1f}s ({100 * v / total:.0f}%)" for ph, v in split.items())
                print(f"{'':<19}{step:<8} {shares}")
    if "3dc" in results.get("netns", {}):
        r = results["netns"]["3dc"]
        for step, key in (("deploy", "deploy_s"), ("noop", "noop_redeploy_s"), ("destroy", "destroy_s")):
            v, goal = r[key], GOALS[step]
            print(f"goal: netns 3dc {step} <= {goal:.0f} s — {'met' if v <= goal else 'NOT met'} ({v:.1f} s)")
    if "3dc" in results.get("netns", {}) and "3dc" in results.get("docker", {}):
        ratio = results["docker"]["3dc"]["deploy_s"] / results["netns"]["3dc"]["deploy_s"]
        print(f"goal: docker 3dc deploy within 1.5x of netns — {'met' if ratio <= 1.5 else 'NOT met'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
