"""Run Locust headless in the lab's client namespace (`ip netns exec`: the client's resolv.conf, so
names go through the lab's DNS), paced to a target rate, recording into <run>/samples/."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nineslab.defaults import DEADLINE_S
from nineslab.errors import LabError
from nineslab.load.samples import Tail
from nineslab.paths import REPO_ROOT, venv_tool
from nineslab.process import end_orphaned_group
from nineslab.topology import Topology

LOCUSTFILE = REPO_ROOT / "loadtests" / "locustfile.py"
LOAD_PIDFILE = "load.pid"  # in the lab's directory: the load generator of the run under way
SEED = 1  # the default seed of the open-loop schedule (recorded in load.json; --seed changes it)


class LoadRun:
    """Locust for one run. `client` is the command prefix that runs a program in the lab's client
    namespace; `pidfile` (in the lab's directory) names the load so heal can end it after a crash."""

    def __init__(
        self,
        client: list[str],
        topology: Topology,
        pidfile: Path,
        run_dir: Path,
        rate: float,
        duration_s: float,
        deadline_s: float = DEADLINE_S,
        processes: int = 1,
        seed: int = SEED,
    ) -> None:
        if rate <= 0 or duration_s <= 0:
            raise LabError("--rate and --duration must be positive")
        self.client = client
        self.topology = topology
        self.run_dir = run_dir
        self.samples_dir = run_dir / "samples"
        self.rate = rate
        self.duration_s = duration_s
        self.deadline_s = deadline_s
        self.processes = processes
        self.seed = seed
        # One open-loop scheduler per Locust process: each fires its share of the rate on its own
        # seeded Poisson schedule, without waiting for answers.
        self.users = max(1, processes)
        self.proc: subprocess.Popen[bytes] | None = None
        self.pidfile = pidfile

    def start(self) -> None:
        self.samples_dir.mkdir(parents=True, exist_ok=True)
        end_orphaned_group(self.pidfile)  # a load generator left over by a crashed run
        cmd = [
            *self.client,
            str(venv_tool("locust")),
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            f"http://{self.topology.dns_name}",
            "-u",
            str(self.users),
            "-r",
            str(self.users),
            # The schedule ends at duration_s; Locust runs a deadline longer so the last requests land.
            "-t",
            f"{math.ceil(self.duration_s + self.deadline_s) + 1}s",
            "--stop-timeout",
            "3",
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        if self.processes > 1:
            cmd += ["--processes", str(self.processes)]
        env = dict(
            os.environ,
            NINESLAB_SAMPLES_DIR=str(self.samples_dir),
            NINESLAB_DEADLINE_S=str(self.deadline_s),
            NINESLAB_USER_RATE=str(self.rate / self.users),
            NINESLAB_DURATION_S=str(self.duration_s),
            NINESLAB_SEED=str(self.seed),
            PYTHONUNBUFFERED="1",
        )
        log = (self.run_dir / "locust.log").open("ab")
        # Own process group: stopping the run stops Locust's workers too, and nothing else.
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, cwd=self.run_dir, start_new_session=True)
        # Who owns this load: heal (run by any process) ends it only once its owner is gone.
        self.pidfile.write_text(json.dumps({"pid": self.proc.pid, "owner": os.getpid()}))
        (self.run_dir / "load.json").write_text(json.dumps({**self.settings(), "started": time.time()}, indent=1))

    def settings(self) -> dict[str, Any]:
        """What a run records about its load (load.json): enough to repeat the schedule."""
        return {
            "rate": self.rate,
            "deadline_s": self.deadline_s,
            "duration_s": self.duration_s,
            "users": self.users,
            "processes": self.processes,
            "seed": self.seed,
            "open_loop": True,
        }

    def freeze(self, seconds: float) -> tuple[float, float]:
        """Stop the whole load generator (SIGSTOP of its process group) for `seconds`: a known client
        stall, for calibration. Returns when it stopped and resumed (wall clock)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGSTOP)
        stopped = time.time()
        try:
            time.sleep(seconds)
        finally:
            os.killpg(self.proc.pid, signal.SIGCONT)
        return stopped, time.time()

    def alive(self) -> bool:
        """Whether Locust still runs (a suite checks this between faults)."""
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.pidfile.unlink(missing_ok=True)

    def wait(self, progress: Callable[[str], None] | None = None, every_s: float = 5.0) -> dict[str, Any]:
        """Block until Locust ends (bounded: duration + 30 s), reporting progress from the samples."""
        assert self.proc is not None
        tail = Tail(self.samples_dir)
        start = time.monotonic()
        total = errors = 0
        limit = self.duration_s + 30
        next_report = start + every_s
        while self.proc.poll() is None and time.monotonic() - start < limit:
            time.sleep(0.2)
            if time.monotonic() < next_report:
                continue
            next_report += every_s
            new = tail.new_samples()
            bad = sum(1 for s in new if not s.ok)
            total, errors = total + len(new), errors + bad
            if progress:
                left = max(0.0, self.duration_s - (time.monotonic() - start))
                progress(
                    f"load: {len(new) / every_s:6.0f} req/s, {bad} errors in the last {every_s:g}s; "
                    f"{total} requests so far, ~{left:.0f}s left"
                )
        self.stop()
        new = tail.new_samples()
        total += len(new)
        errors += sum(1 for s in new if not s.ok)
        return {"requests": total, "errors": errors, "exit_code": self.proc.returncode}
