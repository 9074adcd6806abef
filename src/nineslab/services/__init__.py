"""One module per component: what it runs as (daemon name = pidfile), how its health is probed, and the
configuration nineslab derives for it from the topology. Ansible starts them; these modules look at them."""

from nineslab.services import app, dns, etcd, gateway, lb
from nineslab.services.process import daemon_pid, host_dir

# role -> daemon name (its pidfile is <host_dir>/run/<daemon>.pid)
DAEMONS = {"etcd": "etcd", "gateway": "traefik", "app": "caddy", "lb": "haproxy", "dns": "dnsmasq"}
MODULES = {"etcd": etcd, "gateway": gateway, "app": app, "lb": lb, "dns": dns}

__all__ = ["DAEMONS", "MODULES", "daemon_pid", "host_dir"]
