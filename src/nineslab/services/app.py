"""Upstream app (caddy): JSON naming its host and zone, plus /health."""

from __future__ import annotations

from typing import Any

from nineslab.topology import Host, Topology


def health_check(host: Host, topology: Topology) -> dict[str, Any]:
    return {"kind": "http", "url": f"http://{host.address}/health", "expect": 200}
