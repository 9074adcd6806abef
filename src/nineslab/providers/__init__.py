"""Providers create the lab's hosts; services are configured on them afterwards by Ansible."""

from nineslab.providers.base import InventoryHost, Provider
from nineslab.providers.netns import NetnsProvider

__all__ = ["InventoryHost", "NetnsProvider", "Provider", "get_provider"]


def get_provider(name: str, lab: str) -> Provider:
    if name == "netns":
        return NetnsProvider(lab)
    raise ValueError(f"unknown provider {name!r}")
