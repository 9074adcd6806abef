"""One module per component: what it runs as (daemon names = pidfile names), its health check, and the
configuration nineslab derives for it from the topology. Ansible starts them; these modules look at them."""

from nineslab.services import app, dns, etcd, gateway, lb, waf
from nineslab.topology import Host, Topology

# role -> every daemon a host of that role may run (each one's pidfile is <host_dir>/run/<daemon>.pid);
# which of them it does run depends on the topology's escape switches (daemons() below). destroy
# stops all of them.
DAEMONS: dict[str, tuple[str, ...]] = {
    "etcd": ("etcd",),
    "gateway": ("traefik",),
    "app": ("caddy",),
    "lb": ("haproxy", "keepalived"),
    "waf": ("haproxy",),
    "dns": ("pdns", "dnsmasq"),
    "client": ("unbound",),
}
MODULES = {"etcd": etcd, "gateway": gateway, "app": app, "lb": lb, "waf": waf, "dns": dns}


def daemons(host: Host, topology: Topology) -> tuple[str, ...]:
    """The daemons `host` runs in `topology`: a nameserver is PowerDNS or dnsmasq; an LB of a zone with a
    floating address runs keepalived beside haproxy; the client runs unbound when its resolver caches."""
    if host.role == "dns":
        return (dns.daemon(topology),)
    if host.role == "lb":
        vip = any(z.name == host.zone for z in topology.vip_zones())
        return ("haproxy", "keepalived") if vip else ("haproxy",)
    if host.role == "client":
        return ("unbound",) if topology.escape.client_resolver == "caching" else ()
    return DAEMONS.get(host.role, ())


__all__ = ["DAEMONS", "MODULES", "daemons"]
