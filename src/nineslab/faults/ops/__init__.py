"""The fault ops: each one complete (Jepsen's nemesis shape) — `plan` works out everything `recover`
will need (the engine saves it in the fault's state file), only then `apply` injects; `recover` is
idempotent and needs nothing but the saved state; `sweep` undoes whatever the op may have left when no
state file survived (a crash between apply and the state write cannot happen, but a lost file can),
and is what `heal` runs. Adding a fault kind = one `Op` in `OPS`, its functions in the module of its
family, + its catalogue rows.

Safety: every op acts only on hosts of this lab (namespace `<lab>-*`, address in 198.18.0.0/15),
on processes named by the lab's own pidfiles, and on rules inside the lab's router namespace."""

from __future__ import annotations

from nineslab.faults.ops.base import (
    Op,
    Sweep,
    apply_stop,
    is_daemon_name,
    is_share,
    is_switch,
    plan_host_names,
    plan_hosts,
    recover_start,
    sweep_start,
)
from nineslab.faults.ops.control_plane import (
    apply_bad_push,
    apply_bad_route,
    apply_expired_cert,
    plan_bad_route,
    plan_expired_cert,
    recover_bad_route,
    recover_expired_cert,
    sweep_expired_cert,
    sweep_gray_members,
    sweep_routes,
    sweep_stale_watches,
)
from nineslab.faults.ops.dns import (
    apply_bad_answer,
    is_bad_answer,
    plan_bad_answer,
    recover_bad_answer,
    sweep_bad_answer,
)
from nineslab.faults.ops.network import (
    apply_cut,
    apply_lossy,
    apply_power_off,
    apply_rules,
    plan_blackhole,
    plan_cut_region,
    plan_isolate,
    plan_lossy,
    plan_lossy_link,
    plan_power_off,
    recover_cut,
    recover_lossy,
    recover_power_off,
    recover_rules,
    sweep_cut,
    sweep_lossy,
    sweep_power_off,
    sweep_rules,
)
from nineslab.faults.ops.process import (
    apply_cold_start,
    apply_kill,
    apply_pause,
    plan_cold_start,
    recover_pause,
    sweep_pause,
)
from nineslab.faults.ops.resources import (
    apply_disk_full,
    apply_memory_pressure,
    apply_slow,
    plan_slow,
    recover_disk_full,
    recover_memory_pressure,
    recover_slow,
    sweep_disk_full,
    sweep_memory_pressure,
    sweep_slow,
)
from nineslab.providers.base import CONTAINER, CUT, LOCAL, ROUTER, SWITCH_PORT

__all__ = ["OPS", "Op", "sweeps"]

_DAEMON = {"daemon": is_daemon_name}
_SHARE = {"share": is_share}

# Table order is heal's sweep order: processes and links first, then the network, then etcd's content.
OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op("kill", plan_hosts, apply_kill, recover_start, sweep_start, "SIGKILL of the daemons (crash)", _DAEMON),
        Op("stop", plan_hosts, apply_stop, recover_start, sweep_start, "daemons held down until recovered", _DAEMON),
        Op("pause", plan_hosts, apply_pause, recover_pause, sweep_pause, "SIGSTOP of the host's daemons", _DAEMON),
        Op(
            "slow",
            plan_slow,
            apply_slow,
            recover_slow,
            sweep_slow,
            "every process of the host throttled to a share of a CPU (cgroup cpu quota)",
            _SHARE,
            required=frozenset({"share"}),
            needs=frozenset({LOCAL}),
        ),
        Op(
            "power_off",
            plan_power_off,
            apply_power_off,
            recover_power_off,
            sweep_power_off,
            "switch port down + processes killed",
            {"flush_client_resolver": is_switch},
            needs=frozenset({SWITCH_PORT}),
        ),
        Op(
            "isolate",
            plan_isolate,
            apply_cut,
            recover_cut,
            sweep_cut,
            "zone cut off, processes keep running",
            needs=frozenset({CUT}),
        ),
        Op(
            "cut_region",
            plan_cut_region,
            apply_cut,
            recover_cut,
            sweep_cut,
            "region cut off from the others",
            needs=frozenset({CUT}),
            fits=lambda topology: len(topology.regions) >= 2,
        ),
        Op(
            "bad_answer",
            plan_bad_answer,
            apply_bad_answer,
            recover_bad_answer,
            sweep_bad_answer,
            "the nameservers answer the API name with SERVFAIL or NXDOMAIN (a bad zone pushed)",
            {"answer": is_bad_answer},
            required=frozenset({"answer"}),
            # PowerDNS (escape.dns_health_checks) reloads a zone in place; dnsmasq has no such answer
            fits=lambda topology: topology.escape.dns_health_checks and bool(topology.by_role("dns")),
            needs=frozenset({LOCAL}),
        ),
        Op(
            "blackhole",
            plan_blackhole,
            apply_rules,
            recover_rules,
            sweep_rules,
            "packets to/from the host vanish",
            needs=frozenset({ROUTER}),
        ),
        Op(
            "lossy",
            plan_lossy,
            apply_lossy,
            recover_lossy,
            sweep_lossy,
            "a share of the host's packets dropped both ways (nftables in its namespace)",
            _SHARE,
            required=frozenset({"share"}),
            needs=frozenset({LOCAL}),
        ),
        Op(
            "lossy_link",
            plan_lossy_link,
            apply_lossy,
            recover_lossy,
            sweep_lossy,
            "a share of the packets between the zone and the rest dropped (nftables in the router)",
            _SHARE,
            required=frozenset({"share"}),
            needs=frozenset({ROUTER}),
        ),
        Op(
            "disk_full",
            plan_host_names,
            apply_disk_full,
            recover_disk_full,
            sweep_disk_full,
            "the host's data disk filled to the last byte (a real ENOSPC; its own file system)",
            needs=frozenset({CONTAINER}),
        ),
        Op(
            "memory_pressure",
            plan_host_names,
            apply_memory_pressure,
            recover_memory_pressure,
            sweep_memory_pressure,
            "the host's memory limit held at what it holds: its daemons OOM-killed, and again once restarted",
            needs=frozenset({CONTAINER}),
        ),
        Op(
            "expired_cert",
            plan_expired_cert,
            apply_expired_cert,
            recover_expired_cert,
            sweep_expired_cert,
            "an etcd member restarted with an expired certificate (peers and clients refuse it)",
            fits=lambda topology: topology.security.etcd_tls and bool(topology.by_role("etcd")),
            needs=frozenset({LOCAL}),
        ),
        Op(
            "cold_start",
            plan_cold_start,
            apply_cold_start,
            recover_start,
            sweep_start,
            "etcd down, then a gateway restarted",
            fits=lambda topology: bool(topology.by_role("etcd")),
            needs=frozenset({LOCAL}),
        ),
        Op(
            "bad_push",
            plan_bad_route,
            apply_bad_push,
            recover_bad_route,
            sweep_routes,
            "a broken route pushed the usual way (a canary first under escape.guarded_push)",
            fits=lambda topology: bool(topology.by_role("etcd")),
            needs=frozenset({LOCAL}),
        ),
        Op(
            "bad_route",
            plan_bad_route,
            apply_bad_route,
            recover_bad_route,
            sweep_routes,
            "a broken route written into etcd around the push path; rolled back to the previous revision",
            fits=lambda topology: bool(topology.by_role("etcd")),
            needs=frozenset({LOCAL}),
        ),
    )
}


def sweeps(capabilities: frozenset[str]) -> list[Sweep]:
    """Every sweep of an op the provider offers, once, in table order; then (where the hosts' namespaces
    are on this machine) the etcd members that cannot reach their leader, and after them the gateways
    that stopped following etcd, restarted."""
    out: list[Sweep] = []
    for op in OPS.values():
        if op.needs <= capabilities and op.sweep not in out:
            out.append(op.sweep)
    if sweep_power_off in out and sweep_start in out:
        # power_off's sweep starts every daemon once the ports are up: heal starts them there, once (each
        # start is a process per daemon, or an SSH round trip: 0.46 s of a 2az heal's 2.4 s, run twice)
        out.remove(sweep_start)
    return [*out, sweep_gray_members, sweep_stale_watches] if LOCAL in capabilities else out
