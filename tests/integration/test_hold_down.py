"""A daemon held down under a real runsv stays down, even when runsv is slow to read its control pipe.
runsv reaps a dead daemon before it reads the pipe, and an 'o' read while the daemon is down starts it
once more: a SIGKILL that lands before runsv has read the 'o' brings the daemon back (a "stopped" etcd
member back within its hold, on a loaded machine). Made deterministic here: runsv is frozen while the hold
begins and thawed half a second later. No lab: one service directory laid out as a lab host's."""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from nineslab.paths import host_dir
from nineslab.process import alive
from nineslab.providers.daemons import daemon_pid, hold_down, pidfile

LAB, HOST, DAEMON = "ithold", "h1", "sleeper"


@pytest.fixture
def supervised() -> Iterator[subprocess.Popen[bytes]]:
    root = host_dir(LAB, HOST)
    sv = root / "sv" / DAEMON
    sv.mkdir(parents=True)
    (root / "run").mkdir()
    run = sv / "run"
    run.write_text(f"#!/bin/sh\necho $$ > {pidfile(LAB, HOST, DAEMON)}\nexec sleep 60\n")
    run.chmod(0o755)
    runsv = subprocess.Popen(["runsv", str(sv)], start_new_session=True)
    try:
        deadline = time.monotonic() + 5
        while daemon_pid(LAB, HOST, DAEMON) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert daemon_pid(LAB, HOST, DAEMON), "runsv started the daemon"
        yield runsv
    finally:
        pid = daemon_pid(LAB, HOST, DAEMON)
        runsv.kill()
        runsv.wait(5)
        if pid:
            subprocess.run(["kill", "-9", str(pid)], check=False)
        shutil.rmtree(root.parent.parent)  # the lab's directory: nothing else was made


def test_a_held_down_daemon_stays_down_though_runsv_reads_the_hold_late(supervised: subprocess.Popen[bytes]) -> None:
    first = daemon_pid(LAB, HOST, DAEMON)
    supervised.send_signal(signal.SIGSTOP)  # runsv busy elsewhere: it reads nothing for 0.5 s
    thaw = threading.Timer(0.5, supervised.send_signal, (signal.SIGCONT,))
    thaw.start()
    try:
        killed = hold_down(LAB, HOST, DAEMON)
    finally:
        thaw.join()
    assert killed == first
    time.sleep(1.5)  # runsv has reaped the daemon and read the hold by now; a restart would be visible
    pid = daemon_pid(LAB, HOST, DAEMON)
    stat = (host_dir(LAB, HOST) / "sv" / DAEMON / "supervise" / "stat").read_text().strip()
    assert pid is None and not alive(first or 0), (pid, stat)
    assert stat == "down", stat
