"""nineslab's own Docker engine: Debian's dockerd, started by nineslab in a network namespace of its own
with its data, sockets and pidfile under the state directory, and stopped when the last docker lab is
destroyed. One wiring, and no risk to a user's own engine or containers.

Measured on a 2-core machine: dockerd must be started with `nsenter --net=<netns>` (`ip netns
exec` remounts /sys and hides the cgroup mounts), and it sets the FORWARD policy to DROP in the namespace
it runs in; `--iptables=false` and `--bridge=none` keep it out of the lab's routing altogether. Its
containerd shims re-parent to PID 1: they are found by this engine's exec root in their command line."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nineslab.errors import NinesError
from nineslab.paths import state_root
from nineslab.process import alive

# Lab names hold no dash and are never "nineslab", so this cannot be a lab's namespace.
ENGINE_NETNS = "nineslab-engine"
CGROUP_PARENT = "nineslab-engine"  # every container's cgroups under this, in every controller
CGROUP_ROOT = Path("/sys/fs/cgroup")
DOCKERD = "/usr/sbin/dockerd"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Engine:
    """One engine: everything it owns lives under `root`."""

    root: Path

    @classmethod
    def default(cls) -> Engine:
        return cls(state_root() / "docker-engine")

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pidfile(self) -> Path:
        return self.root / "dockerd.pid"

    @property
    def exec_root(self) -> Path:
        # Kept short: containerd puts unix sockets under it, and a socket path has at most 107 bytes.
        return self.root / "x"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    def command(self, dockerd: str = DOCKERD) -> list[str]:
        """The dockerd command line (without the namespace wrapper)."""
        return [
            dockerd,
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.exec_root}",
            f"--pidfile={self.pidfile}",
            f"--host={self.url}",
            # containerd of its own too, its socket under the exec root
            "--iptables=false",
            "--ip6tables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--bridge=none",
            "--userland-proxy=false",
            "--storage-driver=overlay2",
            f"--cgroup-parent=/{CGROUP_PARENT}",
            "--log-level=warn",
        ]

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    def answers(self) -> bool:
        """Whether the engine answers on its socket (GET /_ping)."""
        if not self.socket.exists():
            return False
        import docker

        try:
            client = docker.DockerClient(base_url=self.url, version="auto", timeout=5)
        except docker.errors.DockerException:
            return False
        try:
            return bool(client.ping())
        except (docker.errors.DockerException, OSError):
            return False
        finally:
            client.close()

    def client(self) -> Any:  # the Docker SDK has no type hints
        """A Docker SDK client for this engine, starting it first if it is not running."""
        import docker

        self.start()
        return docker.DockerClient(base_url=self.url, version="auto", timeout=60)

    def start(self, timeout: float = START_TIMEOUT_S) -> bool:
        """Start the engine unless it already answers; True when it was started now."""
        if self.pid() and self.answers():
            return False
        if not Path(DOCKERD).exists():
            raise NinesError(
                f"the docker provider needs Debian's dockerd ({DOCKERD} is missing) — run `make setup`, "
                "which installs docker.io (nineslab starts its own engine; none need run)"
            )
        self.stop()  # a crashed engine's leftovers (pidfile, sockets, shims) first
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        _ensure_netns(ENGINE_NETNS)
        with self.log.open("ab") as log:
            subprocess.Popen(
                ["nsenter", f"--net=/run/netns/{ENGINE_NETNS}", *self.command()],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives the nineslab command that started it
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() and self.answers():
                return True
            time.sleep(0.1)
        tail = " ".join(self.log.read_text(errors="replace").split()[-30:]) if self.log.exists() else ""
        raise NinesError(f"dockerd did not answer on {self.socket} within {timeout:.0f} s: {tail} (log: {self.log})")

    def shims(self) -> list[int]:
        """containerd shims of this engine (re-parented to PID 1): their command line names our exec root."""
        mark = str(self.exec_root)
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                if argv and argv[0].endswith(b"containerd-shim-runc-v2") and mark.encode() in b" ".join(argv):
                    found.append(int(entry.name))
        return found

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> list[str]:
        """Stop the engine by its pidfile, then its shims; remove its namespace and runtime files (its
        data root — images, containers — stays). Idempotent: nothing running is nothing to do."""
        stopped = []
        pid = self.pid()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            stopped.append(f"dockerd {pid}")
        for shim in self.shims():
            with contextlib.suppress(ProcessLookupError):
                os.kill(shim, signal.SIGKILL)
            stopped.append(f"containerd-shim {shim}")
        for path in (self.pidfile, self.socket):
            path.unlink(missing_ok=True)
        if self.exec_root.exists():
            _unmount_below(self.exec_root)
            shutil.rmtree(self.exec_root, ignore_errors=True)
        subprocess.run(["ip", "netns", "del", ENGINE_NETNS], capture_output=True)
        # What dockerd makes outside its roots: the cgroup parent in each controller, and /run/docker's
        # plugin directory. Removed only when empty (another engine may use /run/docker).
        for group in sorted(CGROUP_ROOT.glob(f"*/{CGROUP_PARENT}"), key=lambda p: -len(p.parts)):
            for child in sorted(group.glob("*/"), key=lambda p: -len(p.parts)):
                with contextlib.suppress(OSError):
                    child.rmdir()
            with contextlib.suppress(OSError):
                group.rmdir()
        for empty in (Path("/run/docker/plugins"), Path("/run/docker")):
            with contextlib.suppress(OSError):
                empty.rmdir()
        return stopped

    def remove(self) -> None:
        """Stop the engine and remove everything it had (images, containers, volumes)."""
        self.stop()
        if self.root.exists():
            _unmount_below(self.root)
            shutil.rmtree(self.root, ignore_errors=True)


def docker_labs(root: Path | None = None) -> list[str]:
    """Labs under the state root made with the docker provider (their lab.json says so)."""
    root = root or state_root()
    labs = []
    for meta in sorted(root.glob("*/lab.json")) if root.is_dir() else []:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(meta.read_text()).get("provider") == "docker":
                labs.append(meta.parent.name)
    return labs


def release(engine: Engine) -> bool:
    """Stop the engine when no docker lab is left; True when it was stopped."""
    if docker_labs() or not engine.pid():
        return False
    engine.stop()
    return True


def _ensure_netns(name: str) -> None:
    if not Path("/run/netns", name).exists():
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, capture_output=True)


def _unmount_below(root: Path) -> None:
    """Lazily unmount every mount under `root`, deepest first (overlay and shm mounts of a crashed engine)."""
    prefix = str(root.resolve()) + "/"
    mounts = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            point = line.split()[4].replace("\\040", " ")
            if point.startswith(prefix):
                mounts.append(point)
    for point in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
