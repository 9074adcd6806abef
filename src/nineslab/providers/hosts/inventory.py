"""The machines a `hosts` lab runs on: an inventory file binding each topology host to an existing
machine's SSH address, user and key. Validated whole before anything is touched; every problem is one
line naming the file and the field (`hosts.<host>.<field>`)."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nineslab.errors import TopologyError
from nineslab.textfile import read_user_file
from nineslab.topology.model import Topology

FIELDS = ("address", "user", "key", "port", "become")
DEFAULTS: dict[str, Any] = {"user": "root", "port": 22, "become": False}


@dataclass(frozen=True)
class Machine:
    """One topology host bound to a machine. `address` is both its SSH address and its lab address."""

    host: str
    address: ipaddress.IPv4Address
    user: str
    key: Path
    port: int = 22
    become: bool = False  # sudo for what needs root (packages, nft), when `user` is not root

    @property
    def target(self) -> str:
        return f"{self.user}@{self.address}"


def load_inventory(path: Path, topology: Topology) -> dict[str, Machine]:
    """Read and validate an inventory file for `topology`; host name -> Machine."""
    if not path.is_file():
        raise TopologyError(f'{path}: no such inventory file — write one (see README, "Existing hosts")')
    try:
        raw = yaml.safe_load(read_user_file(path, "inventory file"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise TopologyError(
            f"{path}:{where} is not valid YAML ({getattr(exc, 'problem', exc)}) — fix the syntax"
        ) from None
    return parse_inventory(raw, topology, str(path), base=path.parent)


def parse_inventory(raw: Any, topology: Topology, source: str, base: Path = Path(".")) -> dict[str, Machine]:
    def fail(field: str, problem: str, fix: str) -> TopologyError:
        return TopologyError(f"{source}: {field}: {problem} — {fix}")

    if not isinstance(raw, dict):
        raise fail("(top)", "expected a mapping with `hosts:`", "write `hosts:` with one entry per topology host")
    unknown = sorted(set(raw) - {"defaults", "hosts"})
    if unknown:
        raise fail(unknown[0], "is not an inventory field", "use `defaults:` and `hosts:` only")
    defaults = raw.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise fail("defaults", "expected a mapping", "write `defaults: {user: ..., key: ...}`")
    entries = raw.get("hosts")
    if not isinstance(entries, dict) or not entries:
        raise fail("hosts", "expected a mapping of host names", "list every host of the topology under `hosts:`")

    wanted = [h.name for h in topology.hosts if h.role != "client"]  # the client is where nineslab runs
    known = {h.name for h in topology.hosts}
    for name in entries:
        if name not in known:
            raise fail(
                f"hosts.{name}",
                f"is not a host of topology {topology.name}",
                f"remove it; the hosts are: {', '.join(wanted)}",
            )
        if name not in wanted:
            raise fail(
                f"hosts.{name}",
                "is a client: nineslab runs its clients on the machine it is started on",
                "remove it and start nineslab on the client machine",
            )
    missing = [n for n in wanted if n not in entries]
    if missing:
        raise fail(f"hosts.{missing[0]}", "is missing", f"give every host a machine (missing: {', '.join(missing)})")

    machines: dict[str, Machine] = {}
    seen: dict[ipaddress.IPv4Address, str] = {}
    for name in wanted:
        entry = entries[name]
        if not isinstance(entry, dict):
            raise fail(f"hosts.{name}", "expected a mapping", "write `{address: 192.0.2.10}` or more fields")
        bad = sorted(set(entry) - set(FIELDS))
        if bad:
            raise fail(f"hosts.{name}.{bad[0]}", "is not a machine field", f"use {', '.join(FIELDS)}")
        merged = {**DEFAULTS, **defaults, **entry}

        def field(key: str, host: str = name) -> str:
            return f"hosts.{host}.{key}" if key in entries[host] else f"defaults.{key}"

        try:
            address = ipaddress.IPv4Address(str(merged.get("address", "")))
        except ValueError:
            raise fail(
                f"hosts.{name}.address",
                f"{merged.get('address')!r} is not an IPv4 address",
                "write the machine's SSH address",
            ) from None
        if address in seen:
            raise fail(
                f"hosts.{name}.address", f"{address} is also {seen[address]}'s", "give each host its own machine"
            )
        seen[address] = name
        user = merged.get("user")
        if not isinstance(user, str) or not user or any(c.isspace() for c in user) or user.startswith("-"):
            raise fail(field("user"), f"{user!r} is not a user name", "write the SSH login, e.g. `user: debian`")
        port = merged.get("port")
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise fail(field("port"), f"{port!r} is not a port", "write 1-65535 (22 by default)")
        become = merged.get("become")
        if not isinstance(become, bool):
            raise fail(field("become"), f"{become!r} is not true or false", "write `become: true` to use sudo")
        if "key" not in merged or not isinstance(merged["key"], str) or not merged["key"]:
            raise fail(f"hosts.{name}.key", "is missing", "give the SSH private key's path (here or under defaults)")
        key = Path(os.path.expanduser(merged["key"]))
        key = key if key.is_absolute() else base / key
        if not os.access(key, os.R_OK) or not key.is_file():
            raise fail(field("key"), f"{key} is not a readable file", "give the path of the SSH private key")
        machines[name] = Machine(name, address, user, key, port, become)
    return machines


def bind(topology: Topology, machines: dict[str, Machine]) -> Topology:
    """The topology with each host's lab address replaced by its machine's (the client keeps its own).
    The client is the operator's machine, and its resolver is the machine's own (a stub as far as the
    lab knows): nineslab runs no caching resolver there."""
    hosts = tuple(
        dataclasses.replace(h, address=machines[h.name].address) if h.name in machines else h for h in topology.hosts
    )
    escape = dataclasses.replace(topology.escape, client_resolver="stub")
    return dataclasses.replace(topology, hosts=hosts, escape=escape)
