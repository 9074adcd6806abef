"""nineslab's memory hog (the memory_pressure fault), run inside a container host, in its memory cgroup:
it takes memory 1 MiB at a time (each page written, so the kernel really gives it) until the kernel has
OOM-killed something in the host; from then on it takes whatever is freed, leaving CUSHION, so a daemon
started again finds no room. It holds until killed — or for an hour at most, then exits by itself.
usage: hog.py PIDFILE [CGROUP]      (CGROUP: the host's memory cgroup as mounted in the container)"""

import os
import sys
import time

LIFETIME_S = 3600
CHUNK = 1 << 20
CUSHION = 4 << 20  # free memory left in the host once squeezed: less than any daemon needs to start


def value(group: str, name: str, key: str = "") -> int:
    with open(f"{group}/{name}") as f:
        text = f.read()
    if not key:
        return int(text)
    return next(int(line.split()[1]) for line in text.splitlines() if line.startswith(key + " "))


def take(held: list[bytearray]) -> None:
    chunk = bytearray(CHUNK)
    chunk[::4096] = b"\x01" * (CHUNK // 4096)
    held.append(chunk)


def main() -> None:
    pidfile = sys.argv[1]
    group = sys.argv[2] if len(sys.argv) > 2 else "/sys/fs/cgroup/memory"
    with open(pidfile + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.replace(pidfile + ".tmp", pidfile)
    limit = value(group, "memory.limit_in_bytes")
    kills = value(group, "memory.oom_control", "oom_kill")
    held: list[bytearray] = []
    for _ in range(limit // CHUNK):  # until the kernel kills a daemon (bounded by the limit)
        if value(group, "memory.oom_control", "oom_kill") > kills:
            break
        take(held)
    deadline = time.monotonic() + LIFETIME_S
    while time.monotonic() < deadline:  # then whatever a killed daemon leaves
        if limit - value(group, "memory.usage_in_bytes") > CUSHION + CHUNK:
            take(held)
        else:
            time.sleep(0.05)


if __name__ == "__main__":
    main()
