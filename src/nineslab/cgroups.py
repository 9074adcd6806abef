"""Lab-owned CPU cgroups (cgroup v1 `cpu` controller): the `slow` fault throttles a host's processes by
moving them into `<lab>-slow-<host>` with a CFS quota, and moves them back to where they were. Every
cgroup nineslab makes carries the lab's prefix; destroy and heal remove exactly those."""

from __future__ import annotations

import contextlib
import errno
from pathlib import Path

CPU_ROOT = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000
LONG_PERIOD_US = 1_000_000  # the longest CFS period: shares under 1 % need it (the quota's floor is 1 ms)
MIN_QUOTA_US = 1_000  # the kernel refuses a CFS quota under 1 ms


def slow_name(lab: str, host: str) -> str:
    return f"{lab}-slow-{host}"


def lab_cgroups(lab: str, root: Path = CPU_ROOT) -> list[Path]:
    """Every cgroup of this lab (lab names have no hyphen, so `<lab>-` never matches another lab's)."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith(slow_name(lab, "")))


def unavailable(root: Path = CPU_ROOT) -> str | None:
    """Why throttling cannot work on this machine, or None."""
    if not (root / "cpu.cfs_quota_us").is_file():
        return f"no cgroup v1 cpu controller at {root} (cpu.cfs_quota_us) — the slow fault needs one"
    return None


def controller_cgroup(pid: int, controller: str) -> str | None:
    """The cgroup of `pid` for a v1 `controller` (as /proc/<pid>/cgroup names it), or None when it is gone."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


def cpu_cgroup(pid: int) -> str | None:
    """The cpu-controller cgroup of `pid`, or None when it is gone."""
    return controller_cgroup(pid, "cpu")


def period_us(share: float) -> int:
    """100 ms, or 1 s where the share of 100 ms would be under the kernel's 1 ms quota floor."""
    return PERIOD_US if share * PERIOD_US >= MIN_QUOTA_US else LONG_PERIOD_US


def quota_us(share: float) -> int:
    """A share of one CPU as a CFS quota per period_us(share) (never under 1 ms: 0.1 % at the least)."""
    return max(MIN_QUOTA_US, round(share * period_us(share)))


def _move(pid: int, cgroup: Path) -> bool:
    """Write `pid` into `cgroup` (all its threads move); False when the process is gone."""
    try:
        (cgroup / "cgroup.procs").write_text(f"{pid}\n")
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            return False
        raise
    return True


def throttle(lab: str, host: str, share: float, pids: list[int], root: Path = CPU_ROOT) -> Path:
    """Create (or reuse) the host's slow cgroup with `share` of a CPU and move `pids` into it."""
    group = root / slow_name(lab, host)
    group.mkdir(exist_ok=True)
    (group / "cpu.cfs_quota_us").write_text("-1\n")  # a reused group: the new period must fit its old quota
    (group / "cpu.cfs_period_us").write_text(f"{period_us(share)}\n")
    (group / "cpu.cfs_quota_us").write_text(f"{quota_us(share)}\n")
    for pid in pids:
        _move(pid, group)
    return group


def members(group: Path) -> list[int]:
    try:
        return [int(x) for x in (group / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def release(group: Path, originals: dict[str, str], fallback: str = "/", root: Path = CPU_ROOT) -> list[int]:
    """Move every process in `group` back to its original cgroup (`originals`: PID -> path; a process
    started inside the group — a daemon its supervisor restarted — goes to `fallback`), then remove the
    group. Idempotent: a missing group is nothing to do. Returns the PIDs moved."""
    moved = []
    for _ in range(8):  # a process forked while we move the others lands in the group: look again
        pids = members(group)
        if not pids:
            break
        for pid in pids:
            target = root / originals.get(str(pid), fallback).lstrip("/")
            if not target.is_dir():  # its original cgroup went away meanwhile
                target = root
            if _move(pid, target):
                moved.append(pid)
    with contextlib.suppress(FileNotFoundError):
        group.rmdir()
    return moved


def remove_all(lab: str, root: Path = CPU_ROOT) -> list[str]:
    """Every cgroup of the lab emptied (its processes back to the root) and removed: heal and destroy."""
    removed = []
    for group in lab_cgroups(lab, root):
        release(group, {}, "/", root)
        removed.append(group.name)
    return removed
