"""Providers create the lab's hosts; services are configured on them afterwards by Ansible."""

import importlib
from typing import TYPE_CHECKING, Any

from nineslab.errors import NinesError
from nineslab.providers.base import InventoryHost, Provider

if TYPE_CHECKING:
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


# Each provider's module is imported when a lab uses it (the docker one brings the Docker SDK and the
# certificate code: ~90 ms of every command's start).
PROVIDERS: dict[str, tuple[str, str]] = {
    "netns": ("nineslab.providers.netns", "NetnsProvider"),
    "docker": ("nineslab.providers.docker.provider", "DockerProvider"),
    "hosts": ("nineslab.providers.hosts.provider", "HostsProvider"),
}
DEFAULT_PROVIDER = "netns"


def provider_class(name: str) -> type[Provider]:
    if name not in PROVIDERS:
        raise NinesError(f"--provider: {name!r} is unknown — use one of: {', '.join(PROVIDERS)}")
    module, cls = PROVIDERS[name]
    found: type[Provider] = getattr(importlib.import_module(module), cls)
    return found


def get_provider(name: str, lab: str) -> Provider:
    return provider_class(name)(lab)


def __getattr__(name: str) -> Any:
    """DockerProvider, HostsProvider, NetnsProvider: imported on first use."""
    for key, (_module, cls) in PROVIDERS.items():
        if cls == name:
            return provider_class(key)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
