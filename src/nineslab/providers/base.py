"""What every provider offers: create / destroy / status / inventory. A later docker or cloud provider
implements the same four; nothing above this layer knows how a host is made."""

from __future__ import annotations

import abc
from dataclasses import dataclass

from nineslab.topology import Topology


@dataclass(frozen=True)
class InventoryHost:
    """A host as the provider made it: enough for Ansible to reach it and for probes to find it."""

    name: str
    role: str
    address: str
    zone: str | None
    region: str | None
    netns: str


class Provider(abc.ABC):
    def __init__(self, lab: str) -> None:
        self.lab = lab

    @abc.abstractmethod
    def create(self, topology: Topology) -> list[InventoryHost]:
        """Create (or repair) every host of the topology; idempotent."""

    @abc.abstractmethod
    def destroy(self) -> None:
        """Remove every host, link and file of the lab; works after a crash and when run twice."""

    @abc.abstractmethod
    def status(self) -> dict[str, bool]:
        """Host name -> whether the host exists right now."""

    @abc.abstractmethod
    def inventory(self) -> list[InventoryHost]:
        """The hosts the provider last created (empty when there is no lab)."""
