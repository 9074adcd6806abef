"""The Ansible inventory: every host in its role's group with what its role needs, and the defaults the
roles share (etcd ports) passed as variables, not written into the roles."""

from __future__ import annotations

from typing import Any

import pytest

from nineslab import defaults
from nineslab.deploy import build_inventory
from nineslab.deploy.inventory import GROUP_OF
from nineslab.providers import InventoryHost
from nineslab.topology import load_topology


def _inventory(topology: str) -> dict[str, Any]:
    topo = load_topology(topology)
    hosts = [InventoryHost(h.name, h.role, str(h.address), h.zone, h.region, f"unit-{h.name}") for h in topo.hosts]
    return build_inventory("unit", topo, hosts)["all"]


@pytest.mark.parametrize("topology", ["1az", "2az", "3dc"])
def test_every_host_is_in_its_role_group_with_its_namespace(topology: str) -> None:
    inv = _inventory(topology)
    topo = load_topology(topology)
    for h in topo.hosts:
        hv = inv["children"][GROUP_OF.get(h.role, h.role)]["hosts"][h.name]
        assert hv["ansible_netns"] == f"unit-{h.name}" and hv["address"] == str(h.address)
        assert hv["host_dir"].endswith(f"/unit/hosts/{h.name}")
    assert sum(len(g["hosts"]) for g in inv["children"].values()) == len(topo.hosts)


def test_role_specific_variables() -> None:
    inv = _inventory("3dc")
    lb_c = inv["children"]["lb"]["hosts"]["lb-c"]["gateway_backends"]
    assert [(b["name"], b["backup"]) for b in lb_c] == [("gw-c", False), ("gw-a", True), ("gw-b", True)]
    assert inv["children"]["gateway"]["hosts"]["gw-a"]["gateway_rootkey"] == "traefik-gw-a."


def test_shared_defaults_reach_the_roles_as_variables() -> None:
    v = _inventory("2az")["vars"]
    assert v["etcd_client_port"] == defaults.ETCD_CLIENT_PORT and v["etcd_peer_port"] == defaults.ETCD_PEER_PORT
    assert all(ep.endswith(f":{defaults.ETCD_CLIENT_PORT}") for ep in v["etcd_endpoints"])
    assert v["lab"] == "unit" and v["ansible_connection"] == "netns"
