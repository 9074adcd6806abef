"""Assertions shared by the per-topology integration tests: what a user relies on after `make deploy`."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import alive, client_get, lab_pids, leftovers, nineslab, nineslab_json


def check_healthy_lab(lab: str, topology: str, deployed: dict[str, Any], target: float) -> None:
    assert deployed["topology"] == topology and deployed["lab"] == lab
    st = nineslab_json("status", "--lab", lab)
    assert st["healthy"], st
    assert st["topology"] == topology and st["target"] == target
    assert st["entrypoint"]["url"] == "http://api.nines.lab/api/"
    assert st["entrypoint"]["client_netns"] == f"{lab}-client"
    assert len(st["entrypoint"]["resolvers"]) == 2
    assert all(h["netns"] == f"{lab}-{h['name']}" and h["address"].startswith("198.1") for h in st["hosts"])
    # three etcd members healthy, exactly one leader among them
    assert sorted(st["etcd"]["healthy_members"]) == sorted(h["name"] for h in st["hosts"] if h["role"] == "etcd")
    assert len(st["etcd"]["healthy_members"]) == 3
    assert st["etcd"]["leader"] in st["etcd"]["healthy_members"]


def check_request_path(lab: str, status: dict[str, Any]) -> None:
    """client -> DNS (api.nines.lab) -> LB -> gateway -> app, each hop named in the response."""
    hosts = {h["name"]: h for h in status["hosts"]}
    for _ in range(6):
        r = client_get(lab, "http://api.nines.lab/api/")
        assert r["status"] == 200
        lb, gw, app = r["headers"]["x-nines-lb"], r["headers"]["x-nines-gateway"], r["headers"]["x-nines-app"]
        assert (hosts[lb]["role"], hosts[gw]["role"], hosts[app]["role"]) == ("lb", "gateway", "app")
        assert r["body"]["app"] == app and r["body"]["zone"] == hosts[app]["zone"]


def check_every_gateway_serves(lab: str, status: dict[str, Any]) -> None:
    for h in status["hosts"]:
        if h["role"] == "gateway":
            r = client_get(lab, f"http://{h['address']}/api/")
            assert r["status"] == 200, h
            assert r["headers"]["x-nines-gateway"] == h["name"]


def check_second_deploy_is_noop(lab: str, topology: str) -> None:
    before = lab_pids(lab)
    again = nineslab_json("deploy", "--topology", topology, "--lab", lab)
    assert again["changed"] == 0
    assert lab_pids(lab) == before, "a second deploy must not restart anything"
    assert again["status"]["healthy"]


def check_destroy_leaves_nothing(lab: str) -> None:
    pids = lab_pids(lab)
    assert pids
    nineslab("destroy", "--lab", lab)
    assert leftovers(lab) == []
    assert [p for p in pids.values() if alive(p)] == []
    nineslab("destroy", "--lab", lab)  # twice is fine
    assert leftovers(lab) == []
