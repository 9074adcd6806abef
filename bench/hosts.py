"""The same faults on netns and on existing machines over SSH: 2az deployed three ways — netns (the
client's caching resolver), netns with `escape.client_resolver: stub` (a client like an operator's
machine), and `--provider hosts` onto sshd machines (the test rig of src/nineslab/rigs/machines.py:
docker containers running Debian's sshd; nineslab runs in the rig's client namespace, whose resolver is
a stub listing the estate's nameservers) — each running the same suite RUNS times under one load. Prints
per fault the error-seconds of every run side by side, the spread of the netns-stub runs (the like-for-
like control), which hosts runs fall outside it, and a permutation test. Needs root and the docker
provider's engine (started by nineslab); about 10 minutes with the defaults.

usage: .venv/bin/python bench/hosts.py [--runs 1] [--rate 50] [--modes netns,netns-stub,hosts] [--json]
         [--only FAULT ...]   (default: gateway-kill, zone-isolate, dns-primary-down: the issue's 2az classes)
         [--all]              (every fault that applies on each provider: the whole catalogue over SSH)
         [--workers N]        (the load as Locust's master and N workers; 0: one Locust process)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from compare_runs import NINESLAB, destroy_s, print_report, report, suites
from nineslab.rigs.machines import Machines, ssh_machines
from nineslab.topology import load_topology

REPO = Path(__file__).resolve().parent.parent

FAULTS = ["gateway-kill", "zone-isolate", "dns-primary-down"]
TOPOLOGY = "2az"


def timed(*cmd: str) -> float:
    start = time.monotonic()
    if subprocess.run(list(cmd), stdout=subprocess.DEVNULL).returncode:
        sys.exit(f"bench: {' '.join(cmd)} failed")
    return time.monotonic() - start


def on_netns(topology: str, lab: str, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": []}
    try:
        out["deploy_s"] = timed(NINESLAB, "deploy", "--topology", topology, "--lab", lab)
        out["runs"] = suites(lab, args.runs, args.only, lab, extra=load_options(args))
    finally:
        out["destroy_s"] = destroy_s(lab)
    return out


def load_options(args: argparse.Namespace) -> tuple[str, ...]:
    return ("--rate", str(args.rate), "--workers", str(args.workers))


def stub_topology(workdir: Path) -> str:
    raw = yaml.safe_load((REPO / "topologies" / f"{TOPOLOGY}.yaml").read_text())
    raw["name"] = f"{TOPOLOGY}-stub"
    raw["escape"] = {**(raw.get("escape") or {}), "client_resolver": "stub"}
    path = workdir / f"{TOPOLOGY}-stub.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(path)


def on_machines(lab: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": []}
    with ssh_machines(f"{lab}m", load_topology(TOPOLOGY), workdir) as m:
        operator = ("ip", "netns", "exec", m.client_netns)
        resolv = Path("/etc/netns") / m.client_netns / "resolv.conf"  # the rig's: its teardown removes it
        resolv.parent.mkdir(parents=True, exist_ok=True)
        dns = [str(h.address) for h in m.topology.by_role("dns")]
        resolv.write_text("".join(f"nameserver {a}\n" for a in dns) + "options timeout:1 attempts:2\n")
        try:
            out["deploy_s"] = timed(*deploy_cmd(operator, lab, m))
            out["runs"] = suites(lab, args.runs, args.only, lab, operator, load_options(args))
        finally:
            start = time.monotonic()
            subprocess.run([*operator, NINESLAB, "destroy", "--lab", lab], capture_output=True)
            out["destroy_s"] = time.monotonic() - start
    return out


def deploy_cmd(operator: tuple[str, ...], lab: str, m: Machines) -> list[str]:
    inventory = ("--provider", "hosts", "--inventory", str(m.inventory))
    return [*operator, NINESLAB, "deploy", "--topology", TOPOLOGY, *inventory, "--lab", lab]


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--rate", type=float, default=50.0)
    ap.add_argument("--modes", default="netns,netns-stub,hosts")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--all", action="store_true", help="every fault that applies to the provider, not only --only's")
    ap.add_argument("--workers", type=int, default=0, help="Locust workers (distributed mode); 0: one process")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    args.only = [] if args.all else args.only or FAULTS
    wanted = [m for m in args.modes.split(",") if m]
    if bad := [m for m in wanted if m not in ("netns", "netns-stub", "hosts")]:
        sys.exit(f"bench: --modes: unknown mode {bad[0]!r} — use netns, netns-stub, hosts")
    modes: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bxhosts-") as tmp:
        for mode in wanted:
            if mode == "netns":
                modes[mode] = on_netns(TOPOLOGY, "bxhn", args)
            elif mode == "netns-stub":
                modes[mode] = on_netns(stub_topology(Path(tmp)), "bxhs", args)
            else:
                modes[mode] = on_machines("bxhh", args, Path(tmp))
    out = report(modes, control="netns-stub", treated="hosts")
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print_report(out, f"{TOPOLOGY} at {args.rate:g} req/s:")


if __name__ == "__main__":
    main()
