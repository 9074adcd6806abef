"""Gateways that silently stopped following etcd. A gateway watches its routes over one long-lived TCP
connection to an etcd member, with nothing in flight while routes do not change. When the member's end
of it goes without a word reaching the gateway — the member's host lost power and its sockets with it,
or a partition swallowed the FIN — the gateway keeps its end ESTABLISHED (for two hours, with the
kernel's keepalive defaults), its watch with it, and serves its old routes through every later change.
Found by looking at both ends: every connection a gateway holds to a member's client port must be held
by that member too. Read-only: `ss` in each namespace."""

from __future__ import annotations

import subprocess
import time

from nineslab.defaults import ETCD_CLIENT_PORT
from nineslab.handle import Handle
from nineslab.providers import Provider
from nineslab.topology import Topology

Conn = tuple[str, str]  # (local "ip:port", peer "ip:port")
SS = ["ss", "-Htn", "state", "established"]
RECHECK_S = 0.3  # a connection being set up is ESTABLISHED at the gateway a moment before at the member


def parse_ss(text: str) -> list[Conn]:
    """(local, peer) of each line of `ss -Htn state established` (Recv-Q Send-Q Local Peer)."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4:
            out.append((parts[2], parts[3]))
    return out


def half_open(
    gateways: dict[str, list[Conn]], members: dict[str, list[Conn] | None], port: int = ETCD_CLIENT_PORT
) -> dict[str, list[str]]:
    """Gateway -> the member endpoints ("ip:port") it holds a connection to that the member does not
    hold. `members` is keyed by member address; None where the member could not be looked at (its host
    is gone: not judged)."""
    held = {ip: set(conns) for ip, conns in members.items() if conns is not None}
    out: dict[str, list[str]] = {}
    for gw, conns in gateways.items():
        bad = set()
        for local, peer in conns:
            ip, _, peer_port = peer.rpartition(":")
            if peer_port == str(port) and ip in held and (peer, local) not in held[ip]:
                bad.add(peer)
        out[gw] = sorted(bad)
    return out


def _established(where: Handle) -> list[Conn] | None:
    if not where.present():
        return None
    try:
        res = where.run(SS, timeout=10)
    except subprocess.TimeoutExpired:
        return None
    return parse_ss(res.stdout) if res.returncode == 0 else None


def stale_watches(provider: Provider, topology: Topology) -> dict[str, list[str]]:
    """Gateway -> members it holds a half-open etcd connection to (empty: it follows etcd). A suspect is
    looked at a second time before it counts, so a connection caught mid-handshake is not one."""

    def look() -> dict[str, list[str]]:
        gws = {g.name: _established(provider.host(g)) or [] for g in topology.by_role("gateway")}
        members = {str(m.address): _established(provider.host(m)) for m in topology.by_role("etcd")}
        return half_open(gws, members)

    first = look()
    if not any(first.values()):
        return first
    time.sleep(RECHECK_S)
    second = look()
    return {gw: sorted(set(first[gw]) & set(second.get(gw, []))) for gw in first}
