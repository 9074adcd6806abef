"""A container host's data directory on a file system of its own: a sparse ext4 image, loop-mounted on
the host's data/ before its container starts (so the container sees it through its directory's bind
mount). A full disk is then one host's, with a real ENOSPC, and survives a container restart with its
data, like a machine's disk (tmpfs would lose it)."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from pathlib import Path

from nineslab.errors import LabError

DISK_MB = 512  # sparse: only what is written takes space on the machine
IMAGE = "disk.img"
FILL = "nineslab-fill"  # the file a disk_full fault writes until the disk is full
CHUNKS = (1 << 20, 4096)


def ensure(host_dir: Path, size_mb: int = DISK_MB) -> bool:
    """data/ mounted on the host's own image (made once, reserved blocks 0: full means full for root too,
    and every daemon runs as root); True when it was mounted now."""
    data, image = host_dir / "data", host_dir / IMAGE
    data.mkdir(parents=True, exist_ok=True)
    if os.path.ismount(data):
        return False
    if not image.exists():
        with image.open("wb") as f:
            f.truncate(size_mb << 20)
        _run(["mkfs.ext4", "-q", "-F", "-m", "0", "-E", "nodiscard", str(image)])
    _run(["mount", "-o", "loop", str(image), str(data)])
    data.chmod(0o700)  # the new file system's root is 0755; etcd wants its data directory private
    return True


def release(host_dir: Path) -> None:
    """Unmount data/ (its loop device goes with it); nothing to do when it is not mounted."""
    data = host_dir / "data"
    # busy (a process of the lab still inside): detached now, unmounted when the last one lets go
    if os.path.ismount(data) and subprocess.run(["umount", str(data)], capture_output=True).returncode:
        subprocess.run(["umount", "-l", str(data)], capture_output=True)


def fill(data: Path) -> int:
    """Write data/nineslab-fill until the disk refuses more (ENOSPC); returns the bytes written."""
    written = 0
    fd = os.open(data / FILL, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for chunk in CHUNKS:
            block = b"\0" * chunk
            while True:
                try:
                    n = os.write(fd, block)  # unbuffered: a short write is the disk's last bytes
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
                written += n
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
    return written


def unfill(data: Path) -> bool:
    """Remove the fill file; True when there was one."""
    with contextlib.suppress(FileNotFoundError):
        (data / FILL).unlink()
        return True
    return False


def _run(cmd: list[str]) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        raise LabError(f"{' '.join(cmd)}: {res.stderr.strip()}")
