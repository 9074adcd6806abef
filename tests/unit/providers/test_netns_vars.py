"""The local provider's Terraform variables: names carry the lab prefix and fit the kernel's limits."""

from __future__ import annotations

import ipaddress

import pytest

from nineslab.providers.netns import terraform_vars
from nineslab.topology import load_topology

IFNAMSIZ = 15  # usable characters of a Linux interface name


@pytest.mark.parametrize("topo", ["1az", "2az", "3dc"])
def test_every_name_carries_the_lab_prefix_and_fits(topo: str) -> None:
    v = terraform_vars("abcdefgh", load_topology(topo))  # the longest lab name allowed
    links = [s["bridge"] for s in v["segments"].values()] + [h["port"] for h in v["hosts"].values()]
    assert all(name.startswith("abcdefgh-") and len(name) <= IFNAMSIZ for name in links)
    assert len(set(links)) == len(links)
    assert all(h["netns"].startswith("abcdefgh-") for h in v["hosts"].values())
    assert all("/abcdefgh/" in h["host_dir"] for h in v["hosts"].values())


@pytest.mark.parametrize("topo", ["1az", "2az", "3dc"])
def test_every_address_is_in_the_lab_range(topo: str) -> None:
    lab_net = ipaddress.ip_network("198.18.0.0/15")
    v = terraform_vars("t", load_topology(topo))
    for h in v["hosts"].values():
        assert ipaddress.ip_interface(h["address"]).ip in lab_net
        assert ipaddress.ip_address(h["router"]) in lab_net
    for s in v["segments"].values():
        assert ipaddress.ip_interface(s["router"]).ip in lab_net


def test_only_the_client_gets_an_etc_netns_dir() -> None:
    v = terraform_vars("t", load_topology("1az"))
    assert [n for n, h in v["hosts"].items() if h["etc_netns"]] == ["client"]
