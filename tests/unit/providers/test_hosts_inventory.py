"""The hosts provider's inventory: every topology host bound to one machine, or a one-line error that
names the file and the field."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest

from nineslab.errors import TopologyError
from nineslab.providers.hosts.inventory import bind, load_inventory, parse_inventory
from nineslab.services import daemons
from nineslab.topology.load import load_topology

TOPOLOGY = load_topology("2az")
SERVERS = [h for h in TOPOLOGY.hosts if h.role != "client"]


@pytest.fixture
def key(tmp_path: Path) -> Path:
    k = tmp_path / "id_ed25519"
    k.write_text("not checked here\n")
    return k


def inventory(key: Path, **changes: Any) -> dict[str, Any]:
    hosts: dict[str, Any] = {h.name: {"address": f"192.0.2.{i + 10}"} for i, h in enumerate(SERVERS)}
    raw: dict[str, Any] = {"defaults": {"user": "debian", "key": str(key), "become": True}, "hosts": hosts}
    for field, value in changes.items():
        host, _, name = field.partition("__")
        if value is None:
            hosts[host].pop(name) if name else hosts.pop(host)
        elif name:
            hosts[host][name] = value
        else:
            hosts[host] = value
    return raw


def error(raw: Any) -> str:
    with pytest.raises(TopologyError) as exc:
        parse_inventory(raw, TOPOLOGY, "inv.yaml")
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("inv.yaml: ")
    return msg


def test_every_host_gets_its_machine_with_defaults_and_overrides(key: Path) -> None:
    raw = inventory(key, **{"gw-a__user": "admin", "gw-a__port": 2222, "gw-a__become": False})
    machines = parse_inventory(raw, TOPOLOGY, "inv.yaml")
    assert sorted(machines) == sorted(h.name for h in SERVERS)
    gw = machines["gw-a"]
    assert (gw.user, gw.port, gw.become, gw.key) == ("admin", 2222, False, key)
    assert gw.target == f"admin@{gw.address}"
    assert machines["lb-a"].user == "debian" and machines["lb-a"].port == 22 and machines["lb-a"].become


def test_a_missing_host_is_named(key: Path) -> None:
    assert "hosts.dns-b: is missing" in error(inventory(key, **{"dns-b": None}))


def test_a_host_the_topology_does_not_have_is_refused(key: Path) -> None:
    raw = inventory(key)
    raw["hosts"]["db-1"] = {"address": "192.0.2.99"}
    assert "hosts.db-1: is not a host of topology 2az" in error(raw)


def test_the_client_is_not_a_machine_of_the_inventory(key: Path) -> None:
    raw = inventory(key)
    raw["hosts"]["client"] = {"address": "192.0.2.99"}
    assert "hosts.client: is a client" in error(raw)


def test_two_hosts_on_one_address_are_refused(key: Path) -> None:
    msg = error(inventory(key, **{"gw-b__address": "192.0.2.10"}))
    assert "hosts.gw-b.address: 192.0.2.10 is also lb-a's" in msg


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("gw-a__address", "gw.example", "hosts.gw-a.address: 'gw.example' is not an IPv4 address"),
        ("gw-a__port", 0, "hosts.gw-a.port: 0 is not a port"),
        ("gw-a__port", True, "hosts.gw-a.port: True is not a port"),
        ("gw-a__become", "yes", "hosts.gw-a.become: 'yes' is not true or false"),
        ("gw-a__user", "-oProxyCommand=x", "hosts.gw-a.user: '-oProxyCommand=x' is not a user name"),
        ("gw-a__color", "red", "hosts.gw-a.color: is not a machine field"),
        ("gw-a", "198.18.1.21", "hosts.gw-a: expected a mapping"),
    ],
)
def test_bad_fields_are_named(key: Path, field: str, value: Any, expected: str) -> None:
    assert expected in error(inventory(key, **{field: value}))


def test_an_unreadable_key_is_named_where_it_was_given(key: Path, tmp_path: Path) -> None:
    raw = inventory(key)
    raw["defaults"]["key"] = str(tmp_path / "nope")
    assert "defaults.key: " in error(raw) and "is not a readable file" in error(raw)
    raw = inventory(key, **{"app-a__key": str(tmp_path / "nope")})
    assert "hosts.app-a.key: " in error(raw)


def test_a_relative_key_is_found_beside_the_inventory(key: Path, tmp_path: Path) -> None:
    raw = inventory(key)
    raw["defaults"]["key"] = key.name
    f = tmp_path / "inv.yaml"
    import yaml

    f.write_text(yaml.safe_dump(raw))
    assert load_inventory(f, TOPOLOGY)["gw-a"].key == key


def test_a_file_that_is_not_an_inventory(tmp_path: Path) -> None:
    f = tmp_path / "inv.yaml"
    f.write_text("hosts: [1, 2\n")
    with pytest.raises(TopologyError, match="is not valid YAML"):
        load_inventory(f, TOPOLOGY)
    with pytest.raises(TopologyError, match="no such inventory file"):
        load_inventory(tmp_path / "missing.yaml", TOPOLOGY)
    assert "(top): expected a mapping" in error(["a"])
    assert "color: is not an inventory field" in error({"hosts": {}, "color": 1})


def test_bind_gives_each_host_its_machines_address(key: Path) -> None:
    bound = bind(TOPOLOGY, parse_inventory(inventory(key), TOPOLOGY, "inv.yaml"))
    assert bound.host("lb-a").address == ipaddress.IPv4Address("192.0.2.10")
    assert bound.client.address == TOPOLOGY.client.address
    assert [h.name for h in bound.hosts] == [h.name for h in TOPOLOGY.hosts]
    # the client is the operator's machine: no caching resolver of the lab's runs there
    assert TOPOLOGY.escape.client_resolver == "caching" and bound.escape.client_resolver == "stub"
    assert daemons(bound.client, bound) == ()
