"""Calibration: inject an outage of known length under load and compare what the report measures.
The outage is one nftables rule in the lab's router namespace that answers every new connection to an
LB with a TCP reset: from the moment it is in place clients are refused at once (no retry, no timeout
to blur the edge), and from the moment it is gone they connect again — one switch, on and off, timed
to the millisecond here. The table is the lab's own (`nineslab_calibration`), deleted afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from nineslab.chaos.runctx import log_window
from nineslab.lab import Lab
from nineslab.load import LoadRun
from nineslab.report.store import new_run_dir, write_json

TABLE = "nineslab_calibration"


class RejectSwitch:
    """An interactive `nft -i` kept open in the router namespace: each switch is one command applied
    within a millisecond, confirmed by listing the table (timestamp = midpoint of write and answer)."""

    def __init__(self, lab: Lab, addresses: list[str]) -> None:
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", f"{lab.name}-core", "stdbuf", "-oL", "nft", "-i"],
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


def run_calibration(lab: Lab, outage_s: float, rate: float = 200.0, settle_s: float = 4.0) -> dict[str, Any]:
    topo = lab.topology()
    lbs = [str(h.address) for h in topo.by_role("lb")]
    run_dir = new_run_dir(f"calibration-{outage_s:g}s")
    write_json(run_dir / "status-before.json", lab.status(topo))
    load = LoadRun(lab, run_dir, rate=rate, duration_s=settle_s * 2 + outage_s + 30)
    switch = RejectSwitch(lab, lbs)
    load.start()
    try:
        time.sleep(settle_s)
        t_on = switch.on()
        time.sleep(max(0.0, t_on + outage_s - time.time()))
        t_off = switch.off()
        os.environ["NINESLAB_RUN_DIR"] = str(run_dir)
        log_window(
            {
                "fault": "calibration-outage",
                "phase": "inject",
                "start": t_on,
                "end": t_on,
                "hosts": [],
                "op": "reject",
                "kind": "node",
                "target": "lb:all",
                "hold_s": outage_s,
            }
        )
        log_window({"fault": "calibration-outage", "phase": "recover", "start": t_off, "end": t_off})
        time.sleep(settle_s)
    finally:
        load.stop()
        switch.close()
    true_s = t_off - t_on
    write_json(run_dir / "result.json", {"topology": topo.name, "calibration": True, "true_outage_s": true_s})
    return {"run": str(run_dir), "true_outage_s": true_s, "t_on": t_on, "t_off": t_off}


def measured_outage(run_dir: Path) -> float:
    results = json.loads((run_dir / "results.json").read_text())
    return float(results["outages"][0]["seconds"]) if results["outages"] else 0.0
