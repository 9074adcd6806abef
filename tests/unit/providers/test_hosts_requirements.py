"""What a machine must have: its host's daemons' Debian packages, read from dpkg-query's answer."""

from __future__ import annotations

from nineslab.providers.hosts.requirements import EVERY_HOST, missing, needed, query
from nineslab.topology.load import load_topology

TOPOLOGY = load_topology("2az")


def test_each_role_needs_its_daemons_packages_and_nothing_nineslab_ships() -> None:
    assert needed(TOPOLOGY.host("lb-a"), TOPOLOGY) == tuple(sorted({*EVERY_HOST, "haproxy"}))
    one_az = load_topology("1az")  # its LBs share a floating address: keepalived too
    assert needed(one_az.by_role("lb")[0], one_az) == tuple(sorted({*EVERY_HOST, "haproxy", "keepalived"}))
    assert needed(TOPOLOGY.host("dns-a"), TOPOLOGY) == tuple(sorted({*EVERY_HOST, "pdns-server", "pdns-backend-bind"}))
    # etcd, Traefik and Caddy come from nineslab's wheels
    for host in ("etcd-a1", "gw-a", "app-a"):
        assert needed(TOPOLOGY.host(host), TOPOLOGY) == tuple(sorted(EVERY_HOST))


def test_only_installed_packages_count() -> None:
    out = "haproxy ii \nkeepalived rc \npython3:amd64 ii \n"
    assert missing(("haproxy", "keepalived", "python3", "runit"), out) == ["keepalived", "runit"]
    assert missing(("haproxy",), "") == ["haproxy"]
    assert query(("a", "b")).startswith("dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' a b")
