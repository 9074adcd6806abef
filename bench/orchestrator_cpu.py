"""What the orchestrator itself costs during a suite: its CPU seconds (the suite's process and every
process it waited for — probes, checkers, sweeps, Chaos Toolkit where it is a child — minus the load
generator's), and the client stalls of that suite (results.json: stalls, stall seconds, requests left
out). Run it with two nineslab installs on the same deployed lab to compare them (--nineslab PATH), one
after the other. Needs root and a deployed lab; a 3dc suite takes about 10 minutes.
usage: .venv/bin/python bench/orchestrator_cpu.py --lab L [--nineslab PATH] [--rate 200] [--only F ...] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")
POLL_S = 1.0  # the load generator's processes live the whole suite: their last reading is their total


def _parents() -> dict[int, int]:
    """pid -> ppid of every process on the machine."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            out[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def _descends(pid: int, root: int, parents: dict[int, int]) -> bool:
    for _ in range(64):
        if pid == root:
            return True
        pid = parents.get(pid, 0)
        if pid <= 1:
            return False
    return False


def _cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime of the process itself


class LoadCpu(threading.Thread):
    """The CPU seconds of the load generator's processes (Locust under the suite), polled."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.seen: dict[int, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 4 * 3600
        while not self.done.wait(POLL_S) and time.monotonic() < deadline:
            parents = _parents()
            for pid in parents:
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if b"locust" in cmd and _descends(pid, self.root, parents):
                    cpu = _cpu_s(pid)
                    if cpu is not None:
                        self.seen[pid] = cpu

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def measure(nineslab: str, lab: str, rate: float, only: list[str]) -> dict[str, Any]:
    args = [nineslab, "suite", "--lab", lab, "--rate", f"{rate:g}", "--json", *[x for f in only for x in ("--only", f)]]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    load = LoadCpu(proc.pid)
    load.start()
    out, _ = proc.communicate(timeout=4 * 3600)
    load.done.set()
    load.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    run = Path(json.loads(out)["run"])
    results = json.loads((run / "results.json").read_text())
    client = results["client"]
    return {
        "nineslab": nineslab,
        "run": str(run),
        "wall_s": round(time.monotonic() - started, 1),
        "cpu_total_s": round(total, 1),
        "cpu_load_s": round(load.seconds, 1),
        "cpu_orchestrator_s": round(total - load.seconds, 1),
        "faults": len(results["faults"]),
        "stalls": client["stalls"],
        "stall_seconds": round(client["stall_seconds"], 2),
        "left_out_requests": client["left_out_requests"],
        "max_stall_share": round(client["max_stall_share"], 4),
        "verdict": results["verdict"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lab", required=True)
    ap.add_argument("--nineslab", default=str(Path(sys.executable).parent / "nineslab"))
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    row = measure(a.nineslab, a.lab, a.rate, a.only)
    if a.json:
        print(json.dumps(row, indent=2))
        return
    for k, v in row.items():
        print(f"{k:<20} {v}")


if __name__ == "__main__":
    main()
