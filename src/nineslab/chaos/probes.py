"""Chaos Toolkit probes: what the steady-state hypothesis checks, through the whole real path."""

from __future__ import annotations

import time
from typing import Any

from nineslab.chaos.runctx import lab_from
from nineslab.services import gateway

__all__ = ["api_serves", "etcd_has_leader", "routes_intact"]


def api_serves(within_s: float = 20.0, configuration: dict[str, Any] | None = None) -> bool:
    """True once a request from the client namespace — DNS, LB, gateway, app — gets a 200 within
    `within_s` (bounded). The same probe a user would run by hand."""
    lab = lab_from(configuration)
    topo = lab.topology()
    check = {"entry": {"kind": "entry", "url": lab.entrypoint_url(topo)}}
    deadline = time.monotonic() + within_s
    while True:
        if lab.probe(check)["entry"].get("healthy"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


def etcd_has_leader(configuration: dict[str, Any] | None = None) -> bool:
    return lab_from(configuration).etcd_leader() is not None


def routes_intact(configuration: dict[str, Any] | None = None) -> bool:
    """Every gateway's router rule in etcd is the one the topology says (a bad push shows here)."""
    lab = lab_from(configuration)
    current = lab.etcd_prefix(gateway.ROOTKEY_PREFIX)
    return all(current.get(k) == v for k, v in gateway.all_route_keys(lab.topology()).items())
