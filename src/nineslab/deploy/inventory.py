"""Ansible inventory = Terraform outputs (how to reach each host) + what nineslab derives from the
topology (etcd cluster, each LB's backends, each gateway's root key, the routes transaction)."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Any

from nineslab import defaults
from nineslab.paths import ENTER_SCRIPT, binaries, host_dir, lab_dir
from nineslab.providers import InventoryHost, Provider
from nineslab.security import etcd_access, pki
from nineslab.services import dns, etcd, gateway, lb, waf
from nineslab.topology import Topology

GROUPS = ("etcd", "gateway", "app", "waf", "lb", "dns", "clients")
# The group of each role: the clients' is plural, for the first client is a host named "client" (a
# group and a host of one name make Ansible's `hosts: client` mean the host alone).
GROUP_OF = {"client": "clients"}


def build_inventory(
    lab: str, topology: Topology, hosts: list[InventoryHost], provider: Provider | None = None
) -> dict[str, Any]:
    groups: dict[str, dict[str, Any]] = {g: {"hosts": {}} for g in GROUPS}
    for ih in hosts:
        host = topology.host(ih.name)
        hv: dict[str, Any] = {
            "ansible_netns": ih.netns,
            "address": ih.address,
            "zone": ih.zone or "",
            "region": ih.region or "",
            "host_dir": str(host_dir(lab, ih.name)),
        }
        if ih.init_pidfile:
            # a container host: commands enter its cgroups and namespaces (nineslab's Python is mounted in)
            hv["nineslab_init_pidfile"] = ih.init_pidfile
            hv["nineslab_enter"] = str(ENTER_SCRIPT)
        if ih.role == "gateway":
            hv["gateway_rootkey"] = gateway.rootkey(host)
            hv["gateway_etcd_user"] = pki.gateway_user(host.name)
        if ih.role == "waf":
            hv["gateway_backends"] = waf.backends(topology, host)
        if ih.role == "lb":
            hv["gateway_backends"] = lb.backends(topology, host)
            hv["lb_wafs"] = lb.backends(topology, host, "waf")
            hv["lb_vrrp"] = lb.vrrp(topology, host)
            hv["lb_interface"] = ih.interface
        if provider is not None:
            hv.update(provider.ansible_host_vars(ih))
        groups[GROUP_OF.get(ih.role, ih.role)]["hosts"][ih.name] = hv
    return {
        "all": {
            "vars": {
                "ansible_connection": "netns",
                "ansible_python_interpreter": sys.executable,
                "lab": lab,
                "lab_dir": str(lab_dir(lab)),
                "bin": binaries(),
                "dns_name": topology.dns_name,
                "api_path": gateway.API_PATH,
                "etcd_initial_cluster": etcd.initial_cluster(topology),
                "etcd_endpoints": etcd.endpoints(topology),
                # security.etcd_tls: mutual TLS and users; certificates and passwords under pki_dir
                "etcd_tls": topology.security.etcd_tls,
                "etcd_scheme": etcd.scheme(topology),
                "pki_dir": str(etcd_access.pki_dir(lab)),
                "etcd_users": etcd_access.auth_spec(topology),
                "routes_txn": gateway.routes_txn(topology),
                "routes_range": gateway.routes_range(),
                "routes_wanted": gateway.wanted_route_keys(topology),
                "entry_points": topology.entry_points(),
                "nameservers": dns.nameservers(topology),
                "dns_domain": dns.domain(topology),
                "dns_lua_record": dns.lua_record(topology),
                "dns_ttl": dns.TTL_S,
                "dns_check_interval": dns.CHECK_INTERVAL_S,
                "escape": asdict(topology.escape),
                "waf_budget_ms": topology.waf_budget_ms,
                "waf_health_path": waf.HEALTH_PATH,
                "waf_blocked_query": waf.BLOCKED_QUERY,
                "waf_header": waf.HEADER,
                "etcd_client_port": defaults.ETCD_CLIENT_PORT,
                "etcd_peer_port": defaults.ETCD_PEER_PORT,
                "admin_port_traefik": defaults.ADMIN_PORT_TRAEFIK,
                "admin_port_haproxy": defaults.ADMIN_PORT_HAPROXY,
                **(provider.ansible_vars() if provider is not None else {}),
            },
            "children": groups,
        }
    }
