"""The fault ops: each one complete (Jepsen's nemesis shape) — `plan` works out everything `recover`
will need (the engine saves it in the fault's state file), only then `apply` injects; `recover` is
idempotent and needs nothing but the saved state; `sweep` undoes whatever the op may have left when no
state file survived (a crash between apply and the state write cannot happen, but a lost file can),
and is what `heal` runs. Adding a fault kind = one `Op` in `OPS` + its catalogue rows.

Safety: every op acts only on hosts of this lab (namespace `<lab>-*`, address in 198.18.0.0/15),
on processes named by the lab's own pidfiles, and on rules inside the lab's router namespace."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nineslab import cgroups
from nineslab.errors import NinesError, RolledBack
from nineslab.health.watches import stale_watches
from nineslab.paths import host_dir
from nineslab.providers.base import CONTAINER, CUT, LOCAL, ROUTER, SWITCH_PORT
from nineslab.routes import RouteChange, guard
from nineslab.security import etcd_access
from nineslab.services import daemons, gateway
from nineslab.services import dns as dns_service
from nineslab.topology import Host, Topology
from nineslab.topology.model import LAB_NETWORK

if TYPE_CHECKING:
    from nineslab.lab import Lab

# Priority of every policy rule nineslab adds in the router namespace: heal removes exactly these.
RULE_PRIORITY = 1100
BAD_RULE = "PathPrefix(`/broken-by-nineslab`)"

State = dict[str, Any]
Params = dict[str, Any]
Plan = Callable[["Lab", list[Host], Params], State]
Apply = Callable[["Lab", State], None]
# What a sweep did, and what it could not do (heal reports both and keeps going).
Swept = tuple[list[str], list[str]]
Sweep = Callable[["Lab"], Swept]
# A parameter check: the value -> None when it is good, else what is wrong with it (one line).
ParamCheck = Callable[[Any], str | None]


@dataclass(frozen=True)
class Op:
    name: str
    plan: Plan
    apply: Apply
    recover: Apply
    sweep: Sweep
    summary: str
    params: Mapping[str, ParamCheck] = field(default_factory=dict)  # the parameters this op takes
    required: frozenset[str] = frozenset()  # of those, the ones every fault of this op must give
    needs: frozenset[str] = frozenset()  # provider capabilities (providers.base) it cannot work without
    # Whether the topology gives the op something to act on, beyond its selector matching hosts.
    fits: Callable[[Topology], bool] = lambda _topology: True


def owned_netns(lab: Lab, host: Host) -> str:
    """The host's namespace, after checking it belongs to this lab: refuse anything else."""
    ns = lab.provider.netns(host)
    if not lab.provider.owns(host):
        raise NinesError(f"refusing to touch {host.name} ({ns}, {host.address}): not part of lab {lab.name}")
    return ns


def _ip_router(lab: Lab, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "-n", lab.provider.router_netns(), *args], capture_output=True, text=True, check=check)


def _is_switch(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _is_share(value: Any) -> str | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1
    return None if ok else "must be a share strictly between 0 and 1 (0.3 = 30 %)"


def _is_daemon_name(value: Any) -> str | None:
    return None if isinstance(value, str) and value.isidentifier() else "must be a daemon name (see `nineslab status`)"


# -- hosts and their daemons -------------------------------------------------------------------------
def plan_hosts(lab: Lab, hosts: list[Host], params: Params) -> State:
    """The hosts, and which of their daemons: all of them, or only `params["daemon"]`."""
    for h in hosts:
        owned_netns(lab, h)
    only = params.get("daemon")
    topo = lab.topology()
    chosen = {h.name: [d for d in daemons(h, topo) if only in (None, d)] for h in hosts}
    if only is not None and not any(chosen.values()):
        raise NinesError(f"params.daemon: no selected host runs {only!r} — use one of the role's daemons")
    return {"hosts": [h.name for h in hosts], "daemons": chosen}


def _daemons_of(lab: Lab, state: State, key: str = "hosts") -> list[tuple[Host, str, str]]:
    """(host, namespace, daemon) for every daemon the state names (all of a host's, in older states)."""
    topo = lab.topology()
    chosen = state.get("daemons", {})
    out = []
    for name in state[key]:
        host = topo.host(name)
        ns = owned_netns(lab, host)
        out += [(host, ns, d) for d in chosen.get(name, daemons(host, topo))]
    return out


def _signal(lab: Lab, state: State, sig: int, key: str = "hosts") -> None:
    for h, _ns, d in _daemons_of(lab, state, key):
        lab.provider.signal_daemon(h, d, sig)


def _start(lab: Lab, state: State, key: str = "hosts") -> None:
    for h, _ns, d in _daemons_of(lab, state, key):
        lab.provider.start_daemon(h, d)


def _every_daemon(lab: Lab) -> list[tuple[Host, str, str]]:
    topo = lab.topology()
    hosts = [h for h in topo.hosts if daemons(h, topo)]
    return _daemons_of(lab, {"hosts": [h.name for h in hosts]})


def apply_kill(lab: Lab, state: State) -> None:
    """A crash: under a supervisor (escape.supervisor) the daemon is back at once — the fault measures that."""
    _signal(lab, state, signal.SIGKILL)


def apply_stop(lab: Lab, state: State, key: str = "hosts") -> None:
    """Down until recovered: the supervisor is told to leave the daemon down, then it is killed."""
    for h, _ns, d in _daemons_of(lab, state, key):
        lab.provider.hold_down(h, d)


def recover_start(lab: Lab, state: State) -> None:
    _start(lab, state)


def sweep_start(lab: Lab) -> Swept:
    """Start every daemon of the lab that is not running."""
    actions, errors = [], []
    for h, _ns, d in _every_daemon(lab):
        try:
            if lab.provider.start_daemon(h, d):
                actions.append(f"started {h.name}/{d}")
        except (OSError, RuntimeError, NinesError) as exc:  # NinesError: a machine SSH cannot reach
            errors.append(str(exc))
    return actions, errors


def _freeze(lab: Lab, names: list[str], frozen: bool) -> bool:
    """The whole hosts frozen (or thawed) where the provider can (a container); False where it cannot."""
    if CONTAINER not in lab.provider.capabilities:
        return False
    topo = lab.topology()
    return all([lab.provider.freeze(topo.host(name), frozen) for name in names])


def apply_pause(lab: Lab, state: State) -> None:
    """SIGSTOP of the host's daemons; on a container host the whole host is frozen (`docker pause`)."""
    if not _freeze(lab, state["hosts"], True):
        _signal(lab, state, signal.SIGSTOP)


def recover_pause(lab: Lab, state: State) -> None:
    if not _freeze(lab, state["hosts"], False):
        _signal(lab, state, signal.SIGCONT)


def sweep_pause(lab: Lab) -> Swept:
    """Every host thawed and SIGCONT to every daemon of the lab (a running one ignores it)."""
    _freeze(lab, [h.name for h in lab.topology().hosts if h.role != "client"], False)
    errors = []
    for h, _ns, d in _every_daemon(lab):
        try:
            lab.provider.signal_daemon(h, d, signal.SIGCONT)
        except NinesError as exc:  # a machine SSH cannot reach: the others still get theirs
            errors.append(str(exc))
    return [], errors


# -- power off: the host's switch port goes dark and its processes die ----------------------------
def plan_power_off(lab: Lab, hosts: list[Host], params: Params) -> State:
    """plan_hosts, and whether the client's resolver cache is flushed once the hosts are off
    (params.flush_client_resolver: the cache is what carries clients while nameservers are gone)."""
    return {**plan_hosts(lab, hosts, {}), "flush_client_resolver": bool(params.get("flush_client_resolver"))}


def apply_power_off(lab: Lab, state: State) -> None:
    topo = lab.topology()
    for name in state["hosts"]:
        lab.provider.power_off(topo, topo.host(name))  # a netns host's port down; a container killed
        lab.provider.stop_supervisor(topo.host(name))  # the whole host is off: nothing on it restarts anything
    _signal(lab, state, signal.SIGKILL)
    # A restarted unbound starts with an empty cache; a stub client has no cache to flush (an operator's
    # machine, on the hosts provider, is bound as one).
    for client in topo.by_role("client") if state.get("flush_client_resolver") else []:
        if "unbound" in daemons(client, topo):
            lab.provider.restart_daemon(client, "unbound")


def _ports_up(lab: Lab, hosts: list[str]) -> None:
    topo = lab.topology()
    for name in hosts:
        lab.provider.power_on(topo, topo.host(name))


def recover_power_off(lab: Lab, state: State) -> None:
    _ports_up(lab, state["hosts"])
    _start(lab, state)


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


def apply_cut(lab: Lab, state: State) -> None:
    """At the router where there is one; else firewall rules on the machines of both sides."""
    if ROUTER in lab.provider.capabilities:
        apply_rules(lab, state)
        return
    cut = state["cut"]
    lab.provider.cut(cut["inside"], cut["outside"], cut["client"])


def recover_cut(lab: Lab, state: State) -> None:
    if ROUTER in lab.provider.capabilities:
        recover_rules(lab, state)
    else:
        lab.provider.uncut()


def sweep_cut(lab: Lab) -> Swept:
    if ROUTER in lab.provider.capabilities:
        return sweep_rules(lab)
    return [f"removed the lab's firewall rules on {h}" for h in lab.provider.uncut()], []


def plan_blackhole(lab: Lab, hosts: list[Host], params: Params) -> State:
    """Packets to and from the hosts vanish: peers wait for timeouts instead of being refused."""
    for h in hosts:
        owned_netns(lab, h)
    pairs = [(f"{h.address}/32", str(LAB_NETWORK)) for h in hosts]
    return {"rules": pairs + [(str(LAB_NETWORK), f"{h.address}/32") for h in hosts]}


# -- gray failures: a host that is slow (CPU throttled) or lossy (a share of its packets dropped) --------
def plan_slow(lab: Lab, hosts: list[Host], params: Params) -> State:
    """Every process in each host's namespace (its supervisor included) with the cpu cgroup it is in now:
    recovery puts each one back there."""
    if CONTAINER in lab.provider.capabilities:  # the container's own CPU limit: nothing to remember
        return {"hosts": [h.name for h in hosts], "share": float(params["share"]), "cgroups": {}}
    problem = cgroups.unavailable()
    if problem:
        raise NinesError(problem)
    found: dict[str, dict[str, str]] = {}
    for h in hosts:
        owned_netns(lab, h)
        found[h.name] = {str(pid): group for pid in lab.provider.pids(h) if (group := cgroups.cpu_cgroup(pid))}
    return {"hosts": [h.name for h in hosts], "share": float(params["share"]), "cgroups": found}


def _limit(lab: Lab, names: list[str], share: float | None) -> bool:
    """Each host's own CPU limit set (or lifted) where the provider has one; False where it has not."""
    topo = lab.topology()
    return all([lab.provider.throttle(topo.host(name), share) for name in names])


def apply_slow(lab: Lab, state: State) -> None:
    if _limit(lab, state["hosts"], state["share"]):
        return
    for name, originals in state["cgroups"].items():
        cgroups.throttle(lab.name, name, state["share"], [int(p) for p in originals])


def recover_slow(lab: Lab, state: State) -> None:
    if _limit(lab, state["hosts"], None):
        return
    for name, originals in state["cgroups"].items():
        # a process started inside (a restarted daemon) goes where its host's processes came from
        fallback = max(set(originals.values()), key=list(originals.values()).count, default="/")
        cgroups.release(cgroups.CPU_ROOT / cgroups.slow_name(lab.name, name), originals, fallback)


def sweep_slow(lab: Lab) -> Swept:
    """Every cgroup of the lab emptied into the root and removed (every container's CPU limit lifted)."""
    _limit(lab, [h.name for h in lab.topology().hosts if h.role != "client"], None)
    try:
        return [f"removed cgroup {g}" for g in cgroups.remove_all(lab.name)], []
    except OSError as exc:
        return [], [f"cannot remove a cgroup of lab {lab.name}: {exc}"]


def _nft(lab: Lab, ns: str, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        [*lab.provider.exec_prefix(ns), "nft", "-f", "-"], input=script, capture_output=True, text=True
    )
    if check and res.returncode != 0:
        detail = " ".join(res.stderr.split())[-300:]
        raise NinesError(f"nft in {ns} refused the packet drop ({detail}) — is nftables installed? (`make setup`)")
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
    spaces = [owned_netns(lab, h) for h in hosts]
    return {"hosts": [h.name for h in hosts], "netns": spaces, "share": float(params["share"])}


def plan_lossy_link(lab: Lab, hosts: list[Host], params: Params) -> State:
    """A share of the packets between the hosts' zones and everything else dropped, in the router: a
    lossy uplink (traffic inside the zone is bridged and not touched)."""
    topo = lab.topology()
    for h in hosts:
        owned_netns(lab, h)
    zones = sorted({str(topo.zone(h.zone).cidr) for h in hosts if h.zone})
    return {"netns": [lab.provider.router_netns()], "zones": zones, "share": float(params["share"])}


def apply_lossy(lab: Lab, state: State) -> None:
    table = lossy_table(lab)
    if "zones" in state:  # the router: packets forwarded from or to the zones
        cidrs = ", ".join(state["zones"])
        rules = _drop_rules(state["share"], f"ip saddr {{ {cidrs} }}", f"ip daddr {{ {cidrs} }}", "forward", "forward")
    else:
        rules = _drop_rules(state["share"], 'iifname != "lo"', 'oifname != "lo"', "input", "output")
    for ns in state["netns"]:
        _nft(lab, ns, f"table inet {table} {{\n{rules}}}\n")


def _delete_table(lab: Lab, ns: str) -> bool:
    return _nft(lab, ns, f"delete table inet {lossy_table(lab)}\n", check=False).returncode == 0


def recover_lossy(lab: Lab, state: State) -> None:
    for ns in state["netns"]:
        _delete_table(lab, ns)


def sweep_lossy(lab: Lab) -> Swept:
    """The lab's drop table removed from every host namespace and the router."""
    topo = lab.topology()
    spaces = [lab.provider.router_netns()] + [lab.provider.netns(h) for h in topo.hosts]
    actions = []
    for ns in spaces:
        if lab.provider.has_netns(ns) and _delete_table(lab, ns):
            actions.append(f"removed the packet drop in {ns}")
    return actions, []


# -- dns: the nameservers answer, but badly (a bad zone pushed): SERVFAIL or NXDOMAIN for the API name --
BAD_ANSWERS = ("servfail", "nxdomain")
SAVED_ZONE = ".before-nineslab"  # suffix of the zone file saved while a bad one is served


def _is_bad_answer(value: Any) -> str | None:
    return None if value in BAD_ANSWERS else f"must be one of {', '.join(BAD_ANSWERS)}"


def broken_zone(text: str, label: str, answer: str) -> str:
    """The zone file with the API name's record broken: its LUA code failing (PowerDNS answers SERVFAIL)
    or the record gone (NXDOMAIN, negatively cached for the SOA's minimum). Pure."""
    out = []
    for line in text.splitlines(keepends=True):
        if line.split(None, 1)[:1] == [label]:
            if answer == "nxdomain":
                continue
            line = f"{label} IN LUA A \"error('answer broken by nineslab')\"\n"
        out.append(line)
    return "".join(out)


def zone_file(lab: Lab, host: Host) -> Path:
    return host_dir(lab.name, host.name) / "conf" / f"{dns_service.domain(lab.topology())}.zone"


def _reload_zone(lab: Lab, host: Host) -> None:
    """PowerDNS reads the zone file again now (bind backend; a file that does not parse is refused and
    the old zone kept, so the fault's file must parse)."""
    res = subprocess.run(
        [
            *lab.provider.exec_prefix(owned_netns(lab, host)),
            "pdns_control",
            f"--socket-dir={host_dir(lab.name, host.name) / 'run'}",
            "bind-reload-now",
            dns_service.domain(lab.topology()),
        ],
        capture_output=True,
        text=True,
        timeout=10,
    )
    if res.returncode != 0 or "rejected" in res.stdout:
        detail = " ".join((res.stdout + res.stderr).split())[-300:]
        raise NinesError(
            f"{host.name}: PowerDNS did not reload its zone ({detail}) — is it running? (`nineslab status`)"
        )


def plan_bad_answer(lab: Lab, hosts: list[Host], params: Params) -> State:
    for h in hosts:
        owned_netns(lab, h)
    return {"hosts": [h.name for h in hosts], "answer": params["answer"]}


def apply_bad_answer(lab: Lab, state: State) -> None:
    topo = lab.topology()
    label = topo.dns_name.split(".", 1)[0]
    for name in state["hosts"]:
        host = topo.host(name)
        zone = zone_file(lab, host)
        saved = zone.with_name(zone.name + SAVED_ZONE)
        if not saved.exists():  # a second apply must not save the broken zone over the good one
            shutil.copy2(zone, saved)
        zone.write_text(broken_zone(saved.read_text(), label, state["answer"]))
        _reload_zone(lab, host)


def _restore_zone(lab: Lab, host: Host) -> bool:
    zone = zone_file(lab, host)
    saved = zone.with_name(zone.name + SAVED_ZONE)
    if not saved.exists():
        return False
    saved.replace(zone)
    _reload_zone(lab, host)
    return True


def recover_bad_answer(lab: Lab, state: State) -> None:
    topo = lab.topology()
    for name in state["hosts"]:
        _restore_zone(lab, topo.host(name))


def sweep_bad_answer(lab: Lab) -> Swept:
    """Every nameserver serving a zone nineslab broke gets its saved zone back."""
    actions, errors = [], []
    for host in lab.topology().by_role("dns"):
        try:
            if _restore_zone(lab, host):
                actions.append(f"restored the zone of {host.name}")
        except NinesError as exc:
            errors.append(str(exc))
    return actions, errors


# -- etcd: a member restarted with an expired certificate (security.etcd_tls) ----------------------
def plan_expired_cert(lab: Lab, hosts: list[Host], params: Params) -> State:
    if any(h.role != "etcd" for h in hosts):
        raise NinesError("expired_cert acts on etcd members only — select `role: etcd`")
    return plan_hosts(lab, hosts, params)


def _restart(lab: Lab, state: State) -> None:
    """Stopped (held down under a supervisor, so it cannot come back on the old files) and started again."""
    apply_stop(lab, state)
    _start(lab, state)


def apply_expired_cert(lab: Lab, state: State) -> None:
    topo = lab.topology()
    for name in state["hosts"]:
        etcd_access.write_expired(lab.name, topo, name)
    _restart(lab, state)


def recover_expired_cert(lab: Lab, state: State) -> None:
    for name in state["hosts"]:
        etcd_access.restore_certificate(lab.name, name)
    _restart(lab, state)


def sweep_expired_cert(lab: Lab) -> Swept:
    """Every member whose certificate nineslab replaced gets the good one back and is restarted."""
    topo = lab.topology()
    restored = [h for h in topo.by_role("etcd") if etcd_access.restore_certificate(lab.name, h.name)]
    if not restored:
        return [], []
    try:
        _restart(lab, plan_hosts(lab, restored, {}))
    except (OSError, RuntimeError, NinesError) as exc:
        return [], [f"restarting {', '.join(h.name for h in restored)}: {exc}"]
    return [f"restored the certificate of {h.name} and restarted it" for h in restored], []


# -- etcd: a gateway restarted while etcd is down (cold start: 404s until etcd returns) ------------
def plan_cold_start(lab: Lab, hosts: list[Host], params: Params) -> State:
    etcd = plan_hosts(lab, lab.topology().by_role("etcd"), {})
    restarted = plan_hosts(lab, hosts, {})
    return {**etcd, "restarted": restarted["hosts"], "daemons": {**etcd["daemons"], **restarted["daemons"]}}


def apply_cold_start(lab: Lab, state: State) -> None:
    apply_stop(lab, state)
    for h, _, d in _daemons_of(lab, state, "restarted"):
        lab.provider.restart_daemon(h, d)


# -- config: a broken route, pushed through the guarded path or written around it -------------------
BAD_CHANGE = RouteChange(source="fault bad-route", puts={gateway.API_RULE_KEY: BAD_RULE})


def plan_bad_route(lab: Lab, hosts: list[Host], params: Params) -> State:
    """The revision to restore and every gateway root the write may touch."""
    return {"revision": guard.revision(lab.etcd), "roots": [f"{gateway.rootkey(h)}/" for h in hosts]}


def apply_bad_route(lab: Lab, state: State) -> None:
    """Written straight into etcd for the selected gateways at once, bypassing any guard."""
    lab.etcd.txn(BAD_CHANGE.ops([r.rstrip("/") for r in state["roots"]], token="fault"))


def apply_bad_push(lab: Lab, state: State) -> None:
    """Pushed the way changes are published (`nineslab routes push`): through a canary that rolls it
    back by itself when escape.guarded_push is on, to every gateway at once when it is off."""
    with contextlib.suppress(RolledBack):  # the canary failed and rolled back: that is the fault's story
        guard.push(lab.etcd, lab.checker(), BAD_CHANGE, lab.topology())


def recover_bad_route(lab: Lab, state: State) -> None:
    """Every touched gateway root back to the revision before the bad write, in one txn (nothing to do
    when the guard already rolled it back)."""
    etcd = lab.etcd
    ops = guard.restore_ops(etcd, state["revision"], state.get("roots") or [gateway.ROOTKEY_PREFIX])
    if ops:
        etcd.txn(ops)


def sweep_routes(lab: Lab, wait_s: float = 20.0) -> Swept:
    """If a gateway's API route is broken by nineslab's bad rule or missing (a bad write never rolled
    back), write the topology's routes. Route changes a user pushed are left as they are. Waits
    (bounded) for etcd to answer: the other sweeps have just started its members."""
    topology = lab.topology()
    deadline = time.monotonic() + wait_s
    while True:
        try:
            current = lab.etcd.prefix(gateway.ROOTKEY_PREFIX)
            break
        except NinesError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    rules = [f"{gateway.rootkey(g)}/{gateway.API_RULE_KEY}" for g in topology.by_role("gateway")]
    if all(current.get(k) not in (None, BAD_RULE) for k in rules):
        return [], []
    lab.etcd.txn(gateway.routes_txn(topology)["failure"])
    return ["restored the routes in etcd"], []


# -- host faults only a host with a disk and a memory of its own has (the docker provider) -------------
def plan_host_names(lab: Lab, hosts: list[Host], params: Params) -> State:
    return {"hosts": [h.name for h in hosts]}


def _container_hosts(lab: Lab) -> list[Host]:
    """The hosts a sweep of a container-only op looks at: none where hosts are not containers."""
    if CONTAINER not in lab.provider.capabilities:
        return []
    return [h for h in lab.topology().hosts if h.role != "client"]


def _each_host(lab: Lab, state: State, act: Callable[[Host, bool], str], on: bool) -> None:
    topo = lab.topology()
    for name in state["hosts"]:
        act(topo.host(name), on)


def apply_disk_full(lab: Lab, state: State) -> None:
    _each_host(lab, state, lab.provider.fill_disk, True)


def recover_disk_full(lab: Lab, state: State) -> None:
    _each_host(lab, state, lab.provider.fill_disk, False)


def sweep_disk_full(lab: Lab) -> Swept:
    """Every host's disk freed of a fill."""
    return [done for h in _container_hosts(lab) if (done := lab.provider.fill_disk(h, False))], []


def apply_memory_pressure(lab: Lab, state: State) -> None:
    _each_host(lab, state, lab.provider.squeeze_memory, True)


def recover_memory_pressure(lab: Lab, state: State) -> None:
    """The memory back, then the daemons the OOM killer took and no supervisor brought back started."""
    _each_host(lab, state, lab.provider.squeeze_memory, False)
    _start(lab, state)


def sweep_memory_pressure(lab: Lab) -> Swept:
    """Every squeezer ended and every host's memory given back; then every daemon started (heal's first
    sweep started them while a squeezer may still have held the limit down)."""
    done = [done for h in _container_hosts(lab) if (done := lab.provider.squeeze_memory(h, False))]
    if not done:
        return [], []
    started, errors = sweep_start(lab)
    return done + started, errors


_DAEMON = {"daemon": _is_daemon_name}
_SHARE = {"share": _is_share}

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
            {"flush_client_resolver": _is_switch},
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
            {"answer": _is_bad_answer},
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


def sweep_stale_watches(lab: Lab) -> Swept:
    """Every gateway that holds a half-open etcd connection (it answers, but follows no change: the
    member's end went without a word) restarted, so its etcd client connects and watches anew. Last:
    after the other sweeps have brought the members back."""
    topo = lab.topology()
    actions, errors = [], []
    for gw, peers in stale_watches(lab.provider, topo).items():
        if not peers:
            continue
        try:
            lab.provider.restart_daemon(topo.host(gw), "traefik", graceful=True)
            actions.append(f"restarted {gw}/traefik: it held a half-open etcd connection to {', '.join(peers)}")
        except (OSError, RuntimeError) as exc:
            errors.append(f"{gw}/traefik: {exc}")
    return actions, errors


def sweeps(capabilities: frozenset[str]) -> list[Sweep]:
    """Every sweep of an op the provider offers, once, in table order; then (where the hosts' namespaces
    are on this machine) the gateways that stopped following etcd restarted."""
    out: list[Sweep] = []
    for op in OPS.values():
        if op.needs <= capabilities and op.sweep not in out:
            out.append(op.sweep)
    return [*out, sweep_stale_watches] if LOCAL in capabilities else out
