"""nineslab's memory squeezer (the memory_pressure fault). It runs on the machine, outside the host's
cgroup, so the OOM killer can never choose it: it keeps the host's memory limit at what the host holds
plus CUSHION (lowering it after every kill frees memory), and whenever a marked daemon runs (its
supervisor started it again) it runs a poker into the limit — a fresh process in the host, marked the
OOM killer's first choice from birth (it inherits the squeezer's mark, above the daemons') — so each
daemon started again is killed again. It holds until ended — or for an hour at most, or until the
host's cgroup is gone.

Why nothing unmarked ever takes memory in the host: when a hog inside the host ran into the limit, the
kernel killed again and again within its one page fault until the faulting process died — 4 kills in
17 ms in the kernel log: traefik, runsv, runsvdir (all marked), then the hog — and nothing was left to
start the gateway again. A poker that faults is itself marked above the supervision tree, so a kill
cascade ends with it at the latest.
Why it pokes rather than only squeezing: a restarted daemon can live on, starved, by reclaiming page
cache (measured: Traefik up and unkilled for 24 s under a limit with a 4 MiB cushion).
usage: hog.py PIDFILE GROUP ENTER...   (the squeezer: GROUP the host's memory cgroup on the machine,
                                        ENTER the command that runs a process in the host)
       hog.py --poke                   (the poker, run in the host: takes memory until a kill, bounded)"""

import contextlib
import os
import signal
import subprocess
import sys
import time

LIFETIME_S = 3600
CHUNK = 1 << 20
PAGE = 4096
CUSHION = 4 << 20  # free memory left in the host: less than any daemon needs to start
TICK_S = 0.02
# oom_score_adj: the host's daemons and supervision tree are marked DAEMON_ADJ (a daemon started again
# inherits it); the pokers POKER_ADJ (the squeezer's own, inherited). A memcg's OOM killer scores a
# process by its resident pages plus adj/1000 of the limit, so a poker at 1000 outranks runsv at 500 by
# half the limit — even a poker just exec'd, smaller than runsv (1.3 MiB resident): both at 1000, the
# kernel took runsv before a poker (dmesg) and no gateway was started again. Traefik (~100 MiB
# resident) still outranks a poker.
DAEMON_ADJ = 500
POKER_ADJ = 1000
SUPERVISION = frozenset({"runsvdir", "runsv", "sh", "sleep", "docker-init", "nsenter", "env"})
POKE_S = 5.0  # a poker not killed by then gives up (nothing marked was left to kill)
GROUP_IN_HOST = "/sys/fs/cgroup/memory"  # the host's memory cgroup, as its own mount namespace shows it


def value(group: str, name: str, key: str = "") -> int:
    with open(f"{group}/{name}") as f:
        text = f.read()
    if not key:
        return int(text)
    return next(int(line.split()[1]) for line in text.splitlines() if line.startswith(key + " "))


def take(held: list[bytearray]) -> None:
    chunk = bytearray(CHUNK)
    chunk[::PAGE] = b"\x01" * (CHUNK // PAGE)
    held.append(chunk)


def marked_daemon(group: str) -> bool:
    """A marked process other than the supervision tree runs in the host (asked only while no poker
    runs)."""
    with open(f"{group}/cgroup.procs") as f:
        pids = [int(p) for p in f.read().split()]
    for pid in pids:
        try:
            with open(f"/proc/{pid}/oom_score_adj") as f:
                adj = f.read().strip()
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if adj == str(DAEMON_ADJ) and comm not in SUPERVISION:
            return True
    return False


def poker() -> None:
    """Take memory until the kernel kills something in the host (this poker, or a bigger marked daemon),
    bounded by the limit and by POKE_S."""
    kills = value(GROUP_IN_HOST, "memory.oom_control", "oom_kill")
    mine: list[bytearray] = []
    deadline = time.monotonic() + POKE_S
    for _ in range(value(GROUP_IN_HOST, "memory.limit_in_bytes") // CHUNK + 1):
        if time.monotonic() > deadline or value(GROUP_IN_HOST, "memory.oom_control", "oom_kill") != kills:
            return
        take(mine)


def squeezer(pidfile: str, group: str, enter: list[str]) -> None:
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write(str(POKER_ADJ))
    with open(pidfile + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(pidfile + ".tmp", pidfile)
    poke: subprocess.Popen[bytes] | None = None

    def end(_sig: int, _frame: object) -> None:
        if poke is not None and poke.poll() is None:
            poke.kill()
            poke.wait()
        sys.exit(0)

    signal.signal(signal.SIGTERM, end)
    deadline = time.monotonic() + LIFETIME_S
    while time.monotonic() < deadline:
        try:
            usage = value(group, "memory.usage_in_bytes")
            if value(group, "memory.limit_in_bytes") - usage > CUSHION + CHUNK:
                # EBUSY: the host took memory meanwhile; next tick
                with contextlib.suppress(OSError), open(f"{group}/memory.limit_in_bytes", "w") as f:
                    f.write(str(-(-(usage + CUSHION) // PAGE) * PAGE))
            idle = poke is None or poke.poll() is not None
            if idle and marked_daemon(group):
                poke = subprocess.Popen(
                    [*enter, sys.executable, __file__, "--poke"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
        except OSError:  # the host's cgroup is gone (container removed): nothing left to squeeze
            break
        time.sleep(TICK_S)
    end(0, None)


if __name__ == "__main__":
    if sys.argv[-1] == "--poke":
        poker()
    else:
        squeezer(sys.argv[1], sys.argv[2], sys.argv[3:])
