"""Network faults: a switch port dark, cuts and blackholes in the router, packets dropped."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable

from nineslab.clocks import Acts
from nineslab.errors import NinesError
from nineslab.faults.ops.base import (
    Lab,
    Params,
    State,
    Swept,
    owned,
    plan_hosts,
    signal_daemons,
    start_daemons,
    sweep_start,
)
from nineslab.handle import Handle
from nineslab.providers.base import ROUTER
from nineslab.services import daemons
from nineslab.topology import Host, Topology
from nineslab.topology.model import LAB_NETWORK

__all__ = [
    "RULE_PRIORITY",
    "apply_cut",
    "apply_lossy",
    "apply_power_off",
    "apply_rules",
    "lossy_table",
    "plan_blackhole",
    "plan_cut_region",
    "plan_isolate",
    "plan_lossy",
    "plan_lossy_link",
    "plan_power_off",
    "recover_cut",
    "recover_lossy",
    "recover_power_off",
    "recover_rules",
    "sweep_cut",
    "sweep_lossy",
    "sweep_power_off",
    "sweep_rules",
]


# Priority of every policy rule nineslab adds in the router namespace: heal removes exactly these.
RULE_PRIORITY = 1100


def _ip_router(lab: Lab, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = lab.provider.router().run(["ip", *args])
    if check:
        res.check_returncode()
    return res


# -- power off: the host's switch port goes dark and its processes die ----------------------------
def plan_power_off(lab: Lab, hosts: list[Host], params: Params) -> State:
    """plan_hosts, and whether the client's resolver cache is flushed once the hosts are off
    (params.flush_client_resolver: the cache is what carries clients while nameservers are gone)."""
    return {**plan_hosts(lab, hosts, {}), "flush_client_resolver": bool(params.get("flush_client_resolver"))}


def apply_power_off(lab: Lab, state: State) -> Acts:
    topo = lab.topology()
    acts: Acts = []
    for name in state["hosts"]:
        acts += lab.provider.power_off(topo, topo.host(name))  # a netns host's port down; a container killed
        acts += lab.provider.stop_supervisor(topo.host(name))  # the whole host off: nothing on it restarts anything
    acts += signal_daemons(lab, state, signal.SIGKILL)
    # A restarted unbound starts with an empty cache; a stub client has no cache to flush (an operator's
    # machine, on the hosts provider, is bound as one).
    for client in topo.by_role("client") if state.get("flush_client_resolver") else []:
        if "unbound" in daemons(client, topo):
            acts += lab.provider.restart_daemon(client, "unbound")
    return acts


def _ports_up(lab: Lab, hosts: list[str]) -> Acts:
    topo = lab.topology()
    return [a for name in hosts for a in lab.provider.power_on(topo, topo.host(name))]


def recover_power_off(lab: Lab, state: State) -> Acts:
    return _ports_up(lab, state["hosts"]) + start_daemons(lab, state)


def sweep_power_off(lab: Lab) -> Swept:
    """Every switch port up, then every daemon started."""
    _ports_up(lab, [h.name for h in lab.topology().hosts if h.role != "client"])
    return sweep_start(lab)


# -- network cuts: blackhole policy rules in the router namespace (intra-zone traffic is bridged) --
def apply_rules(lab: Lab, state: State) -> None:
    for src, dst in state["rules"]:
        _ip_router(lab, "rule", "add", "from", src, "to", dst, "blackhole", "priority", str(RULE_PRIORITY))


def recover_rules(lab: Lab, state: State) -> None:
    for src, dst in state["rules"]:
        # `ip rule add` stacks duplicates: delete until none is left (bounded).
        for _ in range(16):
            res = _ip_router(lab, "rule", "del", "from", src, "to", dst, "priority", str(RULE_PRIORITY), check=False)
            if res.returncode != 0:
                break


def sweep_rules(lab: Lab) -> Swept:
    """Every policy rule of nineslab's priority in the router, whoever added it (bounded)."""
    actions = []
    for _ in range(64):
        if _ip_router(lab, "rule", "del", "priority", str(RULE_PRIORITY), check=False).returncode != 0:
            break
        actions.append("removed a network cut")
    return actions, []


def _machines_cut(topo: Topology, inside: Callable[[Host], bool], client: bool) -> State:
    """Where no router exists (machines over SSH) a cut is firewall rules on each side: which hosts are
    inside, which outside, and whether the client is cut off from the inside too."""
    servers = [h for h in topo.hosts if h.role != "client"]
    return {
        "inside": [h.name for h in servers if inside(h)],
        "outside": [h.name for h in servers if not inside(h)],
        "client": client,
    }


def plan_isolate(lab: Lab, hosts: list[Host], params: Params) -> State:
    """Cut the zones of `hosts` off from everything else (their processes keep running)."""
    topo = lab.topology()
    pairs = []
    zones = sorted({h.zone for h in hosts if h.zone})
    for z in zones:
        cidr = str(topo.zone(z).cidr)
        pairs += [(cidr, str(LAB_NETWORK)), (str(LAB_NETWORK), cidr)]
    return {"rules": pairs, "cut": _machines_cut(topo, lambda h: h.zone in zones, client=True)}


def plan_cut_region(lab: Lab, hosts: list[Host], params: Params) -> State:
    """Cut the region of `hosts` off from the other regions; clients still reach both sides."""
    topo = lab.topology()
    region = hosts[0].region
    inside = [str(z.cidr) for z in topo.zones if z.region == region]
    outside = [str(z.cidr) for z in topo.zones if z.region != region]
    return {
        "rules": [(a, b) for a in inside for b in outside] + [(b, a) for a in inside for b in outside],
        "cut": _machines_cut(topo, lambda h: h.region == region, client=False),
    }


def apply_cut(lab: Lab, state: State) -> Acts:
    """At the router where there is one; else firewall rules on the machines of both sides."""
    if ROUTER in lab.provider.capabilities:
        apply_rules(lab, state)
        return []
    cut = state["cut"]
    return lab.provider.cut(cut["inside"], cut["outside"], cut["client"])


def recover_cut(lab: Lab, state: State) -> Acts:
    if ROUTER in lab.provider.capabilities:
        recover_rules(lab, state)
        return []
    return lab.provider.uncut()[1]


def sweep_cut(lab: Lab) -> Swept:
    if ROUTER in lab.provider.capabilities:
        return sweep_rules(lab)
    return [f"removed the lab's firewall rules on {h}" for h in lab.provider.uncut()[0]], []


def plan_blackhole(lab: Lab, hosts: list[Host], params: Params) -> State:
    """Packets to and from the hosts vanish: peers wait for timeouts instead of being refused."""
    for h in hosts:
        owned(lab, h)
    pairs = [(f"{h.address}/32", str(LAB_NETWORK)) for h in hosts]
    return {"rules": pairs + [(str(LAB_NETWORK), f"{h.address}/32") for h in hosts]}


def _nft(where: Handle, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = where.run(["nft", "-f", "-"], input=script)
    if check and res.returncode != 0:
        detail = " ".join(res.stderr.split())[-300:]
        raise NinesError(
            f"nft in {where.label} refused the packet drop ({detail}) — is nftables installed? (`make setup`)"
        )
    return res


def lossy_table(lab: Lab) -> str:
    return f"{lab.name}-lossy"


def _drop_rules(share: float, match_in: str, match_out: str, hook_in: str, hook_out: str) -> str:
    """Two chains dropping `share` of the packets each way (numgen: 0.1 % steps)."""
    n = max(1, round(share * 1000))
    return (
        f"  chain drop_in {{ type filter hook {hook_in} priority -300; policy accept; "
        f"{match_in} numgen random mod 1000 < {n} drop; }}\n"
        f"  chain drop_out {{ type filter hook {hook_out} priority -300; policy accept; "
        f"{match_out} numgen random mod 1000 < {n} drop; }}\n"
    )


def plan_lossy(lab: Lab, hosts: list[Host], params: Params) -> State:
    """A share of each host's packets dropped both ways, in the host's own namespace (a router rule would
    miss traffic bridged inside the zone); loopback is left alone."""
    spaces = [owned(lab, h).label for h in hosts]
    return {"hosts": [h.name for h in hosts], "netns": spaces, "share": float(params["share"])}


def plan_lossy_link(lab: Lab, hosts: list[Host], params: Params) -> State:
    """A share of the packets between the hosts' zones and everything else dropped, in the router: a
    lossy uplink (traffic inside the zone is bridged and not touched)."""
    topo = lab.topology()
    for h in hosts:
        owned(lab, h)
    zones = sorted({str(topo.zone(h.zone).cidr) for h in hosts if h.zone})
    return {"netns": [lab.provider.router().label], "zones": zones, "share": float(params["share"])}


def apply_lossy(lab: Lab, state: State) -> None:
    table = lossy_table(lab)
    if "zones" in state:  # the router: packets forwarded from or to the zones
        cidrs = ", ".join(state["zones"])
        rules = _drop_rules(state["share"], f"ip saddr {{ {cidrs} }}", f"ip daddr {{ {cidrs} }}", "forward", "forward")
    else:
        rules = _drop_rules(state["share"], 'iifname != "lo"', 'oifname != "lo"', "input", "output")
    for where in _lossy_places(lab, state):
        _nft(where, f"table inet {table} {{\n{rules}}}\n")


def _lossy_places(lab: Lab, state: State) -> list[Handle]:
    """Where the state's drop tables go: the router (zones) or each host's own namespace."""
    topo = lab.topology()
    return [lab.provider.router()] if "zones" in state else [owned(lab, topo.host(h)) for h in state["hosts"]]


def _delete_table(lab: Lab, where: Handle) -> bool:
    return _nft(where, f"delete table inet {lossy_table(lab)}\n", check=False).returncode == 0


def recover_lossy(lab: Lab, state: State) -> None:
    for where in _lossy_places(lab, state):
        _delete_table(lab, where)


def sweep_lossy(lab: Lab) -> Swept:
    """The lab's drop table removed from every host namespace and the router."""
    topo = lab.topology()
    actions = []
    for where in [lab.provider.router()] + [lab.provider.host(h) for h in topo.hosts]:
        if where.present() and _delete_table(lab, where):
            actions.append(f"removed the packet drop in {where.label}")
    return actions, []
