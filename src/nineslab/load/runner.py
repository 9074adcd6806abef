"""Run Locust headless on the lab's client, through the provider's handle (on netns: the client's
namespace with its resolv.conf, so names go through the lab's DNS), paced to a target rate, recording
into <run>/samples/. With workers, Locust's own distributed mode: a master beside the first client and
one worker per share of the rate, spread over every client host of the topology."""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from nineslab.defaults import DEADLINE_S
from nineslab.errors import LabError
from nineslab.handle import Handle
from nineslab.load.samples import Tail
from nineslab.paths import REPO_ROOT, venv_tool
from nineslab.process import end_orphaned_group
from nineslab.runs import Run
from nineslab.runs.records import LoadSettings
from nineslab.topology import Topology

LOCUSTFILE = REPO_ROOT / "loadtests" / "locustfile.py"
LOAD_PIDFILE = "load.pid"  # in the lab's directory: the load generator of the run under way
SEED = 1  # the default seed of the open-loop schedule (recorded in load.json; --seed changes it)
MASTER_PORT = 5557  # Locust's own default, in the first client's namespace
WORKERS_WAIT_S = 30  # how long the master waits for its workers before it gives up (and the run fails)


class LoadClient(NamedTuple):
    """A client host as the load sees it."""

    name: str
    where: Handle  # runs a program there, as the client does (its namespace, its resolv.conf)
    address: str  # its address on the client edge


def place_workers(clients: list[LoadClient], workers: int) -> list[LoadClient]:
    """Worker i on client i mod the number of clients: the first client (the master's) first."""
    return [clients[i % len(clients)] for i in range(workers)]


def master_address(master: LoadClient, placed: list[LoadClient]) -> str:
    """Where the workers reach the master without crossing a link a fault cuts: the loopback of the
    master's namespace when every worker shares it, else the master's address on the client edge, a
    bridge the router never routes (its cuts are between segments) and no machine's firewall sees."""
    return "127.0.0.1" if all(w.where.label == master.where.label for w in placed) else master.address


def _free_port() -> int:
    """A port free on this machine's loopback now (a master on the operator's machine shares its ports)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LoadRun:
    """Locust for one run. `clients` are the lab's client hosts (the first runs Locust, or its master);
    `pidfile` (in the lab's directory) names the load so heal can end it after a crash. `workers` > 0:
    Locust's distributed mode, one user per worker, each worker recording its own sample files."""

    def __init__(
        self,
        clients: list[LoadClient],
        topology: Topology,
        pidfile: Path,
        run_dir: Path,
        rate: float,
        duration_s: float,
        deadline_s: float = DEADLINE_S,
        processes: int = 1,
        seed: int = SEED,
        workers: int = 0,
    ) -> None:
        if rate <= 0 or duration_s <= 0:
            raise LabError("--rate and --duration must be positive")
        if workers and processes > 1:
            raise LabError("--workers and --processes: give one (a worker is a Locust process of its own)")
        self.clients = clients
        self.topology = topology
        self.run_dir = run_dir
        self.samples_dir = Run(run_dir).samples
        self.rate = rate
        self.duration_s = duration_s
        self.deadline_s = deadline_s
        self.processes = processes
        self.seed = seed
        self.placed = place_workers(clients, workers)
        # One open-loop scheduler per Locust process: each fires its share of the rate on its own
        # seeded Poisson schedule, without waiting for answers.
        self.users = max(1, processes, workers)
        self.proc: subprocess.Popen[bytes] | None = None
        self.worker_procs: list[subprocess.Popen[bytes]] = []
        self.master: str | None = None  # where the workers reach the master ("address:port")
        self.pidfile = pidfile

    def _env(self, client: LoadClient) -> dict[str, str]:
        return dict(
            os.environ,
            NINESLAB_SAMPLES_DIR=str(self.samples_dir),
            NINESLAB_DEADLINE_S=str(self.deadline_s),
            NINESLAB_USER_RATE=str(self.rate / self.users),
            NINESLAB_DURATION_S=str(self.duration_s),
            NINESLAB_SEED=str(self.seed),
            NINESLAB_CLIENT=client.name,
            PYTHONUNBUFFERED="1",
        )

    def start(self) -> None:
        self.samples_dir.mkdir(parents=True, exist_ok=True)
        end_orphaned_group(self.pidfile)  # a load generator left over by a crashed run
        locust = [str(venv_tool("locust")), "-f", str(LOCUSTFILE), "--loglevel", "WARNING"]
        main = self.clients[0]
        cmd = [
            *main.where.prefix,
            *locust,
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
        ]
        if self.processes > 1:
            cmd += ["--processes", str(self.processes)]
        master = master_address(main, self.placed)
        port = _free_port() if self.placed and main.where.here else MASTER_PORT
        if self.placed:
            self.master = f"{master}:{port}"
            cmd += ["--master", "--master-bind-host", master, "--master-bind-port", str(port)]
            cmd += ["--expect-workers", str(len(self.placed)), "--expect-workers-max-wait", str(WORKERS_WAIT_S)]
        log = Run(self.run_dir).locust_log.open("ab")
        # Own process groups: stopping the run stops Locust's processes too, and nothing else.
        self.proc = subprocess.Popen(
            cmd, env=self._env(main), stdout=log, stderr=log, cwd=self.run_dir, start_new_session=True
        )
        for client in self.placed:
            worker = [*client.where.prefix, *locust, "--worker", "--master-host", master, "--master-port", str(port)]
            self.worker_procs.append(
                subprocess.Popen(
                    worker, env=self._env(client), stdout=log, stderr=log, cwd=self.run_dir, start_new_session=True
                )
            )
        # Who owns this load: heal (run by any process) ends it only once its owner is gone.
        owner = {"pid": self.proc.pid, "workers": [p.pid for p in self.worker_procs], "owner": os.getpid()}
        self.pidfile.write_text(json.dumps(owner))
        Run(self.run_dir).load_settings.write_text(json.dumps({**self.settings(), "started": time.time()}, indent=1))

    def settings(self) -> LoadSettings:
        """What a run records about its load (load.json): enough to repeat the schedule."""
        return {
            "rate": self.rate,
            "deadline_s": self.deadline_s,
            "duration_s": self.duration_s,
            "users": self.users,
            "processes": self.processes,
            "workers": [w.name for w in self.placed],
            "master": self.master,
            "seed": self.seed,
            "open_loop": True,
        }

    def _procs(self) -> list[subprocess.Popen[bytes]]:
        """Locust (or its master) first, then its workers: each the leader of its own process group."""
        return ([self.proc] if self.proc else []) + self.worker_procs

    def freeze(self, seconds: float) -> tuple[float, float]:
        """Stop the whole load generator (SIGSTOP of its process groups) for `seconds`: a known client
        stall, for calibration. Returns when it stopped and resumed (wall clock)."""
        assert self.proc is not None
        for p in self._procs():
            os.killpg(p.pid, signal.SIGSTOP)
        stopped = time.time()
        try:
            time.sleep(seconds)
        finally:
            for p in self._procs():
                os.killpg(p.pid, signal.SIGCONT)
        return stopped, time.time()

    def wait_started(self, timeout_s: float = 30.0) -> bool:
        """Block (bounded) until the load generator runs its schedule: its first heartbeat file is there.
        Locust takes a second or two to start; a baseline timed from start() was that much short."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.alive():
            if any(self.samples_dir.glob("heartbeat-*.csv")):
                return True
            time.sleep(0.05)
        return False

    def schedules_done(self) -> bool:
        """Whether every user has fired its whole schedule and had its answers (each writes a done file):
        Locust would otherwise idle until its -t, a deadline past the schedule's end."""
        return len(list(self.samples_dir.glob("done-*"))) >= self.users

    def alive(self) -> bool:
        """Whether Locust still runs (a suite checks this between faults): its master, and every worker."""
        procs = self._procs()
        return bool(procs) and all(p.poll() is None for p in procs)

    def stop(self, timeout: float = 10.0) -> None:
        procs = self._procs()
        # The master first, alone: its quit asks every worker for a final report and waits 0.5 s for it. A
        # worker signalled at the same time quits without that report, and the master's totals missed up to
        # its last 3 s (1328 of 1427 requests in a 3-worker run).
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        # one grace for the master and its workers together (a worker ends on its master's quit)
        deadline = time.monotonic() + timeout
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(max(0.0, deadline - time.monotonic()))
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        if procs:
            self.pidfile.unlink(missing_ok=True)

    def wait(self, progress: Callable[[str], None] | None = None, every_s: float = 5.0) -> dict[str, Any]:
        """Block until every user's schedule is done or Locust ends (bounded: duration + 30 s), reporting
        progress from the samples; then stop Locust."""
        assert self.proc is not None
        tail = Tail(self.samples_dir)
        start = time.monotonic()
        total = errors = 0
        limit = self.duration_s + 30
        next_report = start + every_s
        while self.proc.poll() is None and time.monotonic() - start < limit and not self.schedules_done():
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
