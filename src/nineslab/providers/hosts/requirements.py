"""What a machine must have before nineslab can put its hosts on it: the Debian packages of the
daemons the host runs (etcd, Traefik and Caddy come from nineslab's own wheels, not from the machine),
its supervisor, nftables for network faults, procps (pgrep) for the fault layer's script and python3
for Ansible."""

from __future__ import annotations

from nineslab.services import daemons
from nineslab.topology import Host, Topology

# daemon -> the Debian packages that provide it; a daemon not listed is shipped by nineslab
PACKAGES = {
    "haproxy": ("haproxy",),
    "keepalived": ("keepalived",),
    "pdns": ("pdns-server", "pdns-backend-bind"),
    "dnsmasq": ("dnsmasq-base",),
    "unbound": ("unbound",),
}
EVERY_HOST = ("python3", "runit", "nftables", "procps")  # procps: pgrep, to end a supervisor's children


def needed(host: Host, topology: Topology) -> tuple[str, ...]:
    """The Debian packages `host` needs on its machine, sorted."""
    wanted = set(EVERY_HOST)
    for daemon in daemons(host, topology):
        wanted.update(PACKAGES.get(daemon, ()))
    return tuple(sorted(wanted))


DPKG_QUERY = "dpkg-query -W -f '${Package} ${db:Status-Abbrev}\\n' "


def query(packages: tuple[str, ...]) -> str:
    """The shell command that lists which of `packages` are installed (dpkg's "ii")."""
    return DPKG_QUERY + " ".join(packages) + " 2>/dev/null; true"


def missing(packages: tuple[str, ...], dpkg_output: str) -> list[str]:
    """Which of `packages` dpkg-query's output does not show installed ("ii": wanted and installed)."""
    installed = {
        parts[0].split(":")[0]
        for parts in (line.split() for line in dpkg_output.splitlines())
        if len(parts) >= 2 and parts[1] == "ii"
    }
    return [p for p in packages if p not in installed]
