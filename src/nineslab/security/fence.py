"""The control plane off the data path. Clients reach the estate through DNS and the entry points;
etcd — the estate's only state — must not be reachable from where clients are at all. The lab's router
(the one place every packet between segments crosses) drops anything from the client segment to
etcd's client and peer ports, in an nftables table of the lab's own (`inet <lab>-fence`). nineslab's
own control-plane calls come from the router namespace itself (the operator's vantage point), which
the rule does not cover: it filters forwarded packets only. Admin listeners (Traefik's ping, haproxy's
stats) bind to 127.0.0.1 of their host, so nothing but the host itself reaches them."""

from __future__ import annotations

import subprocess

from nineslab.defaults import ETCD_CLIENT_PORT, ETCD_PEER_PORT
from nineslab.errors import LabError
from nineslab.handle import Handle
from nineslab.topology import Topology

CONTROL_PORTS = (ETCD_CLIENT_PORT, ETCD_PEER_PORT)


def fence_table(lab: str) -> str:
    return f"{lab}-fence"


def fence_script(lab: str, topology: Topology) -> str:
    """The nft script that (re)writes the fence table: idempotent (declare, delete, write). Pure."""
    table = fence_table(lab)
    ports = ", ".join(str(p) for p in CONTROL_PORTS)
    client = topology.client_segment.cidr
    return (
        f"table inet {table} {{}}\n"
        f"delete table inet {table}\n"
        f"table inet {table} {{\n"
        f"  chain forward {{ type filter hook forward priority -200; policy accept;\n"
        f"    ip saddr {client} tcp dport {{ {ports} }} counter drop\n"
        f"  }}\n"
        f"}}\n"
    )


def _nft(router: Handle, args: list[str], script: str | None = None) -> subprocess.CompletedProcess[str]:
    return router.run(["nft", *args], input=script, timeout=10)


def install(router: Handle, topology: Topology) -> None:
    res = _nft(router, ["-f", "-"], fence_script(router.lab, topology))
    if res.returncode != 0:
        detail = " ".join(res.stderr.split())[-300:]
        raise LabError(
            f"lab {router.lab}: cannot install the control-plane fence in the router ({detail}) — `make setup`"
        )


def present(router: Handle) -> bool:
    return _nft(router, ["list", "table", "inet", fence_table(router.lab)]).returncode == 0
