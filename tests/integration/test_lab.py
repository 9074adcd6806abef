"""Deploy each reference topology for real and check what a user relies on after `make deploy`.
Tests run grouped per topology (module-scoped parametrized fixture), destroy last in each group."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import alive, client_get, lab_deployed, lab_pids, leftovers, nineslab, nineslab_json

TARGETS = {"1az": 0.999, "2az": 0.9999, "3dc": 0.99999}


@pytest.fixture(scope="module", params=sorted(TARGETS))
def lab(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, dict[str, Any]]]:
    topology = request.param
    with lab_deployed(f"it{topology}", topology) as deployed:
        yield f"it{topology}", topology, deployed


def test_deploys_healthy_with_one_etcd_leader(lab: tuple[str, str, dict[str, Any]]) -> None:
    name, topology, deployed = lab
    assert deployed["topology"] == topology and deployed["lab"] == name
    st = nineslab_json("status", "--lab", name)
    assert st["healthy"], st
    assert st["topology"] == topology and st["target"] == TARGETS[topology]
    assert st["entrypoint"]["url"] == "http://api.nines.lab/api/"
    assert st["entrypoint"]["client_netns"] == f"{name}-client"
    assert len(st["entrypoint"]["resolvers"]) >= 2 and st["entrypoint"]["client_resolver"] == "caching"
    assert all(h["netns"] == f"{name}-{h['name']}" and h["address"].startswith("198.1") for h in st["hosts"])
    etcd_hosts = sorted(h["name"] for h in st["hosts"] if h["role"] == "etcd")
    assert len(etcd_hosts) == 3 and sorted(st["etcd"]["healthy_members"]) == etcd_hosts
    assert st["etcd"]["leader"] in etcd_hosts


def test_request_crosses_dns_lb_gateway_app(lab: tuple[str, str, dict[str, Any]]) -> None:
    """client -> DNS (api.nines.lab) -> LB -> gateway -> app, each hop named in the response."""
    name = lab[0]
    hosts = {h["name"]: h for h in nineslab_json("status", "--lab", name)["hosts"]}
    for _ in range(6):
        r = client_get(name, "http://api.nines.lab/api/")
        assert r["status"] == 200
        lb, gw, app = r["headers"]["x-nines-lb"], r["headers"]["x-nines-gateway"], r["headers"]["x-nines-app"]
        assert (hosts[lb]["role"], hosts[gw]["role"], hosts[app]["role"]) == ("lb", "gateway", "app")
        assert r["body"]["app"] == app and r["body"]["zone"] == hosts[app]["zone"]


def test_every_gateway_serves_the_route(lab: tuple[str, str, dict[str, Any]]) -> None:
    name = lab[0]
    gateways = [h for h in nineslab_json("status", "--lab", name)["hosts"] if h["role"] == "gateway"]
    assert len(gateways) >= 2
    for h in gateways:
        r = client_get(name, f"http://{h['address']}/api/")
        assert r["status"] == 200, h
        assert r["headers"]["x-nines-gateway"] == h["name"]


def test_second_deploy_changes_nothing(lab: tuple[str, str, dict[str, Any]]) -> None:
    name, topology, _ = lab
    before = lab_pids(name)
    again = nineslab_json("deploy", "--topology", topology, "--lab", name)
    assert again["changed"] == 0
    assert lab_pids(name) == before, "a second deploy must not restart anything"
    assert again["status"]["healthy"]


def test_destroy_leaves_nothing(lab: tuple[str, str, dict[str, Any]]) -> None:
    name = lab[0]
    pids = lab_pids(name)
    assert len(pids) >= 11
    nineslab("destroy", "--lab", name)
    assert leftovers(name) == []
    assert [p for p in pids.values() if alive(p)] == []
    nineslab("destroy", "--lab", name)  # twice is fine
    assert leftovers(name) == []
