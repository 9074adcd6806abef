"""One module per component: what it runs as (daemon names = pidfile names), its health check, and the
configuration nineslab derives for it from the topology. Ansible starts them; these modules look at them."""

from nineslab.services import app, dns, etcd, gateway, lb

# role -> the daemons a host of that role runs (each one's pidfile is <host_dir>/run/<daemon>.pid).
# A tuple: a host may run more than one (a nameserver beside a VRRP daemon, a supervisor).
DAEMONS: dict[str, tuple[str, ...]] = {
    "etcd": ("etcd",),
    "gateway": ("traefik",),
    "app": ("caddy",),
    "lb": ("haproxy",),
    "dns": ("dnsmasq",),
}
MODULES = {"etcd": etcd, "gateway": gateway, "app": app, "lb": lb, "dns": dns}


def daemons(role: str) -> tuple[str, ...]:
    """The daemons of a host of `role` (none for the client)."""
    return DAEMONS.get(role, ())


__all__ = ["DAEMONS", "MODULES", "daemons"]
