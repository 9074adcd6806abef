"""Web application firewall (haproxy with deny rules) between the LBs and the gateways, one per zone in
the topologies that have a WAF tier. Its escape lives in the LBs (services/lb.py): while no WAF answers
its health check within the topology's budget, they send requests straight to the gateways and mark
them unfiltered."""

from __future__ import annotations

from typing import Any

from nineslab.services import lb
from nineslab.services.gateway import API_PATH
from nineslab.topology import Host, Topology

HEALTH_PATH = "/waf-health"  # answered by the WAF itself (haproxy monitor-uri): its own latency, not the gateways'
# The attack pattern the rule set blocks (URL-decoded, any case): SQL injection through the query string.
BLOCKED_QUERY = "union select"
# Response header naming the WAF that filtered a request; absent when the LB sent it past the WAF tier.
HEADER = "X-Nines-WAF"


def backends(topology: Topology, waf: Host) -> list[dict[str, Any]]:
    """The gateways a WAF forwards to: the same choice as an LB's."""
    return lb.backends(topology, waf)


def health_check(host: Host, topology: Topology) -> dict[str, Any]:
    return {"kind": "http", "url": f"http://{host.address}{API_PATH}", "expect": 200}
