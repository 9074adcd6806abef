"""Chaos Toolkit probes: what the steady-state hypothesis checks, through the whole real path."""

from __future__ import annotations

import time
from typing import Any

from nineslab.chaos.current_run import lab_from
from nineslab.health.status import entrypoint_url

__all__ = ["api_serves"]


def api_serves(within_s: float = 20.0, configuration: dict[str, Any] | None = None) -> bool:
    """True once a request from the client namespace — DNS, LB, gateway, app — gets a 200 within
    `within_s` (bounded). The same probe a user would run by hand."""
    lab = lab_from(configuration)
    check = {"entry": {"kind": "entry", "url": entrypoint_url(lab.topology())}}
    checker = lab.checker()
    deadline = time.monotonic() + within_s
    while True:
        if checker.run(check)["entry"].get("healthy"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)
