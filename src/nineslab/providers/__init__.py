"""Providers create the lab's hosts; services are configured on them afterwards by Ansible."""

from nineslab.errors import NinesError
from nineslab.providers.base import InventoryHost, Provider
from nineslab.providers.docker.provider import DockerProvider
from nineslab.providers.hosts.provider import HostsProvider
from nineslab.providers.netns import NetnsProvider

__all__ = [
    "DEFAULT_PROVIDER",
    "PROVIDERS",
    "DockerProvider",
    "HostsProvider",
    "InventoryHost",
    "NetnsProvider",
    "Provider",
    "get_provider",
]


PROVIDERS: dict[str, type[Provider]] = {"netns": NetnsProvider, "docker": DockerProvider, "hosts": HostsProvider}
DEFAULT_PROVIDER = "netns"


def get_provider(name: str, lab: str) -> Provider:
    if name not in PROVIDERS:
        raise NinesError(f"--provider: {name!r} is unknown — use one of: {', '.join(PROVIDERS)}")
    return PROVIDERS[name](lab)
