"""etcd: the only state. Members, endpoints, and how to read health and leadership."""

from __future__ import annotations

import base64
from typing import Any

from nineslab.defaults import ETCD_CLIENT_PORT as CLIENT_PORT
from nineslab.defaults import ETCD_PEER_PORT as PEER_PORT
from nineslab.topology import Host, Topology


def b64(text: str) -> str:
    """etcd's JSON gateway carries keys and values base64-encoded."""
    return base64.b64encode(text.encode()).decode()


def prefix_range(prefix: str) -> dict[str, str]:
    """The key and range_end of an etcd range covering every key that starts with `prefix`."""
    return {"key": b64(prefix), "range_end": b64(prefix[:-1] + chr(ord(prefix[-1]) + 1))}


def scheme(topology: Topology) -> str:
    """https where etcd runs with mutual TLS (security.etcd_tls), for client and peer traffic alike."""
    return "https" if topology.security.etcd_tls else "http"


def endpoint(host: Host, topology: Topology) -> str:
    return f"{scheme(topology)}://{host.address}:{CLIENT_PORT}"


def endpoints(topology: Topology) -> list[str]:
    return [endpoint(h, topology) for h in topology.by_role("etcd")]


def initial_cluster(topology: Topology) -> str:
    return ",".join(f"{h.name}={scheme(topology)}://{h.address}:{PEER_PORT}" for h in topology.by_role("etcd"))


def health_check(host: Host, topology: Topology, access: dict[str, Any] | None = None) -> dict[str, Any]:
    """maintenance/status answers from the member itself (no quorum needed) and names the leader.
    `access`: the client certificate and user the checker presents where etcd has TLS and users."""
    return {"kind": "etcd_status", "url": f"{endpoint(host, topology)}/v3/maintenance/status", **(access or {})}


def read_check(host: Host, topology: Topology, key: str, access: dict[str, Any] | None = None) -> dict[str, Any]:
    """A linearizable read of `key` from the member itself: it needs a ReadIndex round trip to the leader,
    so a member that answers its status but has lost its way to the leader fails it."""
    url = f"{endpoint(host, topology)}/v3/kv/range"
    return {"kind": "http", "url": url, "data": {"key": b64(key), "keys_only": True}, **(access or {})}


def healthy(result: dict[str, Any]) -> bool:
    return bool(result.get("ok")) and not result.get("body", {}).get("errors")


def summarize(topology: Topology, results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Leader name and healthy members from each member's own status answer."""
    ids: dict[str, str] = {}
    leaders: set[str] = set()
    healthy_members = []
    for h in topology.by_role("etcd"):
        res = results.get(h.name, {})
        if not healthy(res):
            continue
        header = res["body"].get("header", {})
        ids[str(header.get("member_id"))] = h.name
        if res["body"].get("leader") not in (None, "0"):
            leaders.add(str(res["body"]["leader"]))
        healthy_members.append(h.name)
    # Members that agree on one leader that is itself up: that is a cluster with a leader.
    leader = ids.get(next(iter(leaders))) if len(leaders) == 1 else None
    return {"endpoints": endpoints(topology), "leader": leader, "healthy_members": healthy_members}
