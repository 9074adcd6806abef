"""Calibration: inject an outage of known length under load and compare what the report measures.
The outage is one nftables rule in the lab's router namespace that answers every new connection to an
LB (its own address or a zone's floating one) with a TCP reset: from the moment it is in place clients
are refused at once (no retry, no timeout to blur the edge), and from the moment it is gone they
connect again — one switch, on and off, timed to the millisecond here. The table is the lab's own
(`nineslab_calibration`), deleted afterwards."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nineslab.analysis.core import AFTER_RECOVERY_S
from nineslab.chaos.current_run import start_run
from nineslab.defaults import RATE
from nineslab.errors import LabError
from nineslab.lab import Lab
from nineslab.report import write_report
from nineslab.runs import Run, write_json
from nineslab.runs.events import FaultEvent, append_event

TABLE = "nineslab_calibration"


# What the switch does to new connections to the LBs: refuse them at once (a TCP reset), or drop them
# (connects hang until the deadline: the outage that closed-loop load undercounted).
KINDS = {"refuse": "reject with tcp reset", "hang": "drop"}


class RejectSwitch:
    """An interactive `nft -i` kept open in the router namespace: each switch is one command applied
    within a millisecond, confirmed by listing the table (timestamp = midpoint of write and answer)."""

    def __init__(self, lab: Lab, addresses: list[str], kind: str = "refuse") -> None:
        self.verdict = KINDS[kind]
        self.proc = subprocess.Popen(
            lab.provider.router().argv(["stdbuf", "-oL", "nft", "-i"]),
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
            f"add rule ip {TABLE} forward ip daddr {{ {', '.join(self.addresses)} }} tcp dport 80 {self.verdict}"
        )

    def off(self) -> float:
        return self._cmd(f"flush chain ip {TABLE} forward")

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write(f"delete table ip {TABLE}\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


def run_calibration(
    lab: Lab,
    outage_s: float,
    rate: float = RATE,
    settle_s: float = 4.0,
    kind: str = "refuse",
    client_stall_s: float = 0,
    processes: int = 1,
    stall_inside: bool = False,
) -> dict[str, Any]:
    """A known outage of `kind` under load. With `client_stall_s`, the load generator itself is stopped
    (SIGSTOP of its process group) for that long, away from the outage: the report must call that a
    client stall, not an outage of the estate. With `stall_inside`, the stop falls inside the fault's
    window instead (1 s after the outage ends, in its after-recovery window): the report must leave its
    requests out of the point, count them as failed in the bound, and keep the fault measured while the
    stop covers at most its share of the window."""
    topo = lab.topology()
    lbs = [str(h.address) for h in topo.by_role("lb")]
    run_dir = start_run(lab, topo, f"calibration-{kind}-{outage_s:g}s")
    duration_s = settle_s * 2 + outage_s + client_stall_s + AFTER_RECOVERY_S + 10
    load = lab.load(run_dir, rate=rate, duration_s=duration_s, processes=processes)
    # every way in: each LB's own address and the floating ones DNS hands out
    switch = RejectSwitch(lab, sorted(set(lbs) | set(topo.entry_points())), kind)
    load.start()
    stall: tuple[float, float] | None = None
    try:
        # settle_s of load before anything happens, timed from the first requests: Locust took 3.5 s to
        # send its first one with two processes, and a fault 4 s after its start had half of its 2 s
        # window before it empty (unmeasured)
        if not load.wait_started():
            raise LabError(f"the load generator did not start within 30 s — see {Run(run_dir).locust_log}")
        time.sleep(settle_s)
        if client_stall_s > 0 and not stall_inside:
            stall = load.freeze(client_stall_s)
            time.sleep(settle_s)
        t_on = switch.on()
        time.sleep(max(0.0, t_on + outage_s - time.time()))
        t_off = switch.off()
        if client_stall_s > 0 and stall_inside:
            time.sleep(1.0)
            stall = load.freeze(client_stall_s)
        outage = "calibration-outage"
        inject = FaultEvent(fault=outage, phase="inject", start=t_on, end=t_on, hosts=[], op="reject", kind="node")
        append_event(run_dir, FaultEvent(**inject, select="all", role="lb", hold_s=outage_s))
        append_event(run_dir, FaultEvent(fault=outage, phase="recover", start=t_off, end=t_off))
        time.sleep(AFTER_RECOVERY_S + 0.5)  # load through the whole after-recovery window, or it is unmeasured
    finally:
        load.stop()
        switch.close()
    true_s = t_off - t_on
    write_json(
        Run(run_dir).outcome,
        {"topology": topo.name, "calibration": True, "kind": kind, "true_outage_s": true_s, "client_stall": stall},
    )
    return {"run": str(run_dir), "true_outage_s": true_s, "t_on": t_on, "t_off": t_off, "client_stall": stall}


def measured_outage(run_dir: Path) -> float:
    results = json.loads(Run(run_dir).results.read_text())
    return float(results["outages"][0]["seconds"]) if results["outages"] else 0.0


def calibrate(
    lab: Lab,
    outages: list[float],
    rate: float = RATE,
    progress: Callable[[str], None] | None = None,
    kinds: tuple[str, ...] = ("refuse",),
    client_stall_s: float = 0,
    processes: int = 1,
    stall_inside: bool = False,
) -> list[dict[str, Any]]:
    """One calibration run per outage length and kind: the true length next to what the report
    measures (and, with a client stall, how long the report says the client stalled)."""
    rows = []
    for kind in kinds:
        for outage in outages:
            if progress:
                progress(f"calibration: {outage:g}s {kind} outage at {rate:g} req/s")
            r = run_calibration(
                lab,
                outage,
                rate=rate,
                kind=kind,
                client_stall_s=client_stall_s,
                processes=processes,
                stall_inside=stall_inside,
            )
            report = write_report(r["run"])
            measured = measured_outage(Path(r["run"]))
            rows.append(
                {
                    "run": r["run"],
                    "kind": kind,
                    "true_s": r["true_outage_s"],
                    "measured_s": measured,
                    "error_ms": (measured - r["true_outage_s"]) * 1000,
                    "outages_reported": report["outage_count"],
                    "client_stall_true_s": (r["client_stall"][1] - r["client_stall"][0]) if r["client_stall"] else 0.0,
                    "client_stall_reported_s": report["client"]["stall_seconds"],
                    "client_stall": r["client_stall"],
                }
            )
    return rows
