"""Locust's distributed mode: where the workers go, where they reach the master, and that no cut of the
catalogue lies on that path. Pure: the real topologies, plans and provider naming, no processes."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from nineslab.errors import LabError
from nineslab.faults.ops import OPS
from nineslab.handle import Handle
from nineslab.load.runner import LoadClient, LoadRun, master_address, place_workers
from nineslab.providers.netns import NetnsProvider
from nineslab.topology import load_topology
from tests.unit.faults.fake_lab import FakeLab

CLIENTS_2AZ = "topologies/examples/2az-clients.yaml"


def _clients(topology: str) -> list[LoadClient]:
    provider = NetnsProvider("unit")
    return [LoadClient(h.name, provider.host(h), str(h.address)) for h in load_topology(topology).by_role("client")]


def test_workers_go_round_robin_over_the_clients_the_masters_first() -> None:
    clients = _clients(CLIENTS_2AZ)
    assert [c.name for c in place_workers(clients, 5)] == ["client", "client-2", "client-3", "client", "client-2"]
    assert place_workers(clients, 0) == []
    assert [c.name for c in place_workers(_clients("2az"), 3)] == ["client"] * 3


def test_the_master_is_on_loopback_when_its_workers_share_its_namespace_else_on_the_client_edge() -> None:
    one = _clients("2az")
    assert master_address(one[0], place_workers(one, 4)) == "127.0.0.1"
    three = _clients(CLIENTS_2AZ)
    assert master_address(three[0], place_workers(three, 3)) == "198.19.255.10"
    # the operator's machine (hosts provider): every client is "" — one machine, its loopback
    here = [c._replace(where=Handle("unit", "this machine", (), lambda: True)) for c in three]
    assert master_address(here[0], place_workers(here, 3)) == "127.0.0.1"


def _cut(lab: FakeLab, op: str, host: str) -> list[tuple[str, str]]:
    """The (source, destination) networks a router cut matches: policy rules, or a lossy link's zones
    either way."""
    state = OPS[op].plan(lab, [lab.topology().host(host)], {"share": 0.3})
    if "rules" in state:
        return [(a, b) for a, b in state["rules"]]
    return [(z, "0.0.0.0/0") for z in state["zones"]] + [("0.0.0.0/0", z) for z in state["zones"]]


@pytest.mark.parametrize(
    ("topology", "cuts"),
    [
        (CLIENTS_2AZ, [("isolate", "gw-a"), ("isolate", "gw-b"), ("blackhole", "lb-a"), ("lossy_link", "gw-a")]),
        ("3dc", [("isolate", "gw-a"), ("isolate", "gw-c"), ("cut_region", "gw-c"), ("cut_region", "gw-a")]),
    ],
)
def test_no_cut_of_the_catalogue_lies_between_the_master_and_a_worker(topology: str, cuts: list[Any]) -> None:
    """The router's rules match routed traffic between networks; master and workers share the client
    edge, so no rule may match a pair of client addresses (either way); the machines' cut (hosts
    provider) never names a client, whose SSH and loopback stay."""
    lab = FakeLab(topology)
    clients = [ipaddress.ip_address(h.address) for h in lab.topology().by_role("client")]
    names = {h.name for h in lab.topology().by_role("client")}
    for op, host in cuts:
        pairs = _cut(lab, op, host)
        assert pairs, (op, host)
        for src, dst in pairs:
            s, d = ipaddress.ip_network(src), ipaddress.ip_network(dst)
            assert not any(a in s and b in d for a in clients for b in clients), (op, host, src, dst)
        cut = OPS[op].plan(lab, [lab.topology().host(host)], {"share": 0.3}).get("cut")
        if cut:
            assert not names & {*cut["inside"], *cut["outside"]}, (op, host)


def test_workers_and_processes_are_one_or_the_other(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="--workers and --processes"):
        LoadRun(_clients("2az"), load_topology("2az"), tmp_path / "load.pid", tmp_path, 10, 5, processes=2, workers=2)
    run = LoadRun(_clients(CLIENTS_2AZ), load_topology(CLIENTS_2AZ), tmp_path / "p", tmp_path, 30, 5, workers=3)
    assert run.users == 3 and run.settings()["workers"] == ["client", "client-2", "client-3"]
