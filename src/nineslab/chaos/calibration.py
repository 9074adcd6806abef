"""Calibration: inject an outage of known length under load and compare what the report measures.
The outage is one nftables rule in the lab's router namespace that answers every new connection to an
LB with a TCP reset: from the moment it is in place clients are refused at once (no retry, no timeout
to blur the edge), and from the moment it is gone they connect again — one switch, on and off, timed
to the millisecond here. The table is the lab's own (`nineslab_calibration`), deleted afterwards."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nineslab.chaos.current_run import record_fault_event
from nineslab.chaos.runner import start_run
from nineslab.defaults import RATE
from nineslab.lab import Lab
from nineslab.report import write_report
from nineslab.runs import OUTCOME_FILE, RESULTS_FILE, write_json

TABLE = "nineslab_calibration"


class RejectSwitch:
    """An interactive `nft -i` kept open in the router namespace: each switch is one command applied
    within a millisecond, confirmed by listing the table (timestamp = midpoint of write and answer)."""

    def __init__(self, lab: Lab, addresses: list[str]) -> None:
        self.proc = subprocess.Popen(
            [*lab.provider.exec_prefix(lab.provider.router_netns()), "stdbuf", "-oL", "nft", "-i"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.addresses = addresses
        self._cmd(f"add table ip {TABLE}")
        self._cmd(f"add chain ip {TABLE} forward {{ type filter hook forward priority 0; policy accept; }}")

    def _cmd(self, command: str) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        before = time.time()
        self.proc.stdin.write(f"{command}\nlist table ip {TABLE}\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line or "Error" in line:
                raise RuntimeError(f"nft: {command}: {line.strip() or 'no answer'}")
            if line.rstrip() == "}":
                return (before + time.time()) / 2
        raise RuntimeError(f"nft: {command}: timed out")

    def on(self) -> float:
        return self._cmd(
            f"add rule ip {TABLE} forward ip daddr {{ {', '.join(self.addresses)} }} tcp dport 80 reject with tcp reset"
        )

    def off(self) -> float:
        return self._cmd(f"flush chain ip {TABLE} forward")

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(f"delete table ip {TABLE}\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


def run_calibration(lab: Lab, outage_s: float, rate: float = RATE, settle_s: float = 4.0) -> dict[str, Any]:
    topo = lab.topology()
    lbs = [str(h.address) for h in topo.by_role("lb")]
    run_dir = start_run(lab, topo, f"calibration-{outage_s:g}s")
    load = lab.load(run_dir, rate=rate, duration_s=settle_s * 2 + outage_s + 30)
    switch = RejectSwitch(lab, lbs)
    load.start()
    try:
        time.sleep(settle_s)
        t_on = switch.on()
        time.sleep(max(0.0, t_on + outage_s - time.time()))
        t_off = switch.off()
        record_fault_event(
            {
                "fault": "calibration-outage",
                "phase": "inject",
                "start": t_on,
                "end": t_on,
                "hosts": [],
                "op": "reject",
                "kind": "node",
                "select": "all",
                "role": "lb",
                "hold_s": outage_s,
            },
            run_dir,
        )
        record_fault_event({"fault": "calibration-outage", "phase": "recover", "start": t_off, "end": t_off}, run_dir)
        time.sleep(settle_s)
    finally:
        load.stop()
        switch.close()
    true_s = t_off - t_on
    write_json(run_dir / OUTCOME_FILE, {"topology": topo.name, "calibration": True, "true_outage_s": true_s})
    return {"run": str(run_dir), "true_outage_s": true_s, "t_on": t_on, "t_off": t_off}


def measured_outage(run_dir: Path) -> float:
    results = json.loads((run_dir / RESULTS_FILE).read_text())
    return float(results["outages"][0]["seconds"]) if results["outages"] else 0.0


def calibrate(
    lab: Lab, outages: list[float], rate: float = RATE, progress: Callable[[str], None] | None = None
) -> list[dict[str, Any]]:
    """One calibration run per outage length: the true length next to what the report measures."""
    rows = []
    for outage in outages:
        if progress:
            progress(f"calibration: {outage:g}s outage at {rate:g} req/s")
        r = run_calibration(lab, outage, rate=rate)
        write_report(r["run"])
        measured = measured_outage(Path(r["run"]))
        rows.append(
            {
                "run": r["run"],
                "true_s": r["true_outage_s"],
                "measured_s": measured,
                "error_ms": (measured - r["true_outage_s"]) * 1000,
            }
        )
    return rows
