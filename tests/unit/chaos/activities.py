"""Activities for the in-process runner's tests: they touch no lab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nineslab.chaos.actions import STOPPED
from nineslab.chaos.current_run import current


def lab_name(configuration: dict[str, Any] | None = None) -> str:
    return str((configuration or {}).get("lab"))


def hold(seconds: float) -> None:
    """Waits like the inject action: ends at once, through chaoslib's graceful exit, when stopped."""
    run = current()
    assert run is not None, "the runner binds its run"
    if run.stopping.wait(seconds):
        raise SystemExit(STOPPED)


def mark(path: str) -> None:
    Path(path).write_text("rolled back")
