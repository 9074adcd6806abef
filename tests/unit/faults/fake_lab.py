"""A stand-in for `Lab` in unit tests of pure planning: the real topology and the real provider's
naming, no hosts, no etcd (plans that need etcd read `etcd_revision`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nineslab.providers.netns import NetnsProvider
from nineslab.topology import Topology, load_topology


class FakeEtcd:
    def __init__(self, revision: int) -> None:
        self.revision = revision
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((path, body))
        return {"header": {"revision": str(self.revision)}}


class FakeLab:
    def __init__(self, topology: str, name: str = "unit", state: Path | None = None) -> None:
        self.name = name
        self.dir = state or Path("/nonexistent") / name
        self.provider = NetnsProvider(name)
        self._topology = load_topology(topology)
        self.etcd = FakeEtcd(41)

    def topology(self) -> Topology:
        return self._topology
