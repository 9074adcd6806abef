"""Each op is a small inject/recover pair, split in three so a crash can never lose a fault:
`plan` works out everything `recover` will need (the engine saves it in the fault's state file),
only then `apply` injects; `recover` is idempotent and needs nothing but the saved state.

Safety: every op acts only on hosts of this lab (namespace `<lab>-*`, address in 198.18.0.0/15),
on processes named by the lab's own pidfiles, and on rules inside the lab's router namespace."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nineslab.errors import NinesError
from nineslab.services import DAEMONS
from nineslab.services.etcd import b64 as etcd_b64
from nineslab.services.gateway import rootkey
from nineslab.services.process import signal_daemon, start_daemon
from nineslab.topology import Host
from nineslab.topology.model import LAB_NETWORK

if TYPE_CHECKING:
    from nineslab.lab import Lab

# Priority of every policy rule nineslab adds in the router namespace: heal removes exactly these.
RULE_PRIORITY = 1100
BAD_RULE = "PathPrefix(`/broken-by-nineslab`)"

State = dict[str, Any]
Plan = Callable[["Lab", list[Host]], State]
Apply = Callable[["Lab", State], None]


def guard(lab: Lab, host: Host) -> str:
    """The host's namespace, after checking it belongs to this lab: refuse anything else."""
    ns = lab.netns(host)
    if not ns.startswith(f"{lab.name}-") or host.address not in LAB_NETWORK:
        raise NinesError(f"refusing to touch {host.name} ({ns}, {host.address}): not part of lab {lab.name}")
    return ns


def _ip_core(lab: Lab, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "-n", f"{lab.name}-core", *args], capture_output=True, text=True, check=check)


def _daemon(host: Host) -> str:
    return DAEMONS[host.role]


def plan_hosts(lab: Lab, hosts: list[Host]) -> State:
    for h in hosts:
        guard(lab, h)
    return {"hosts": [h.name for h in hosts]}


def _hosts(lab: Lab, state: State, key: str = "hosts") -> list[tuple[Host, str]]:
    topo = lab.topology()
    return [(h, guard(lab, h)) for h in (topo.host(n) for n in state[key])]


# -- kill / pause ------------------------------------------------------------------------------------
def apply_kill(lab: Lab, state: State) -> None:
    for h, _ns in _hosts(lab, state):
        signal_daemon(lab.name, h.name, _daemon(h), signal.SIGKILL)


def recover_start(lab: Lab, state: State) -> None:
    for h, ns in _hosts(lab, state):
        start_daemon(lab.name, ns, h.name, _daemon(h))


def apply_pause(lab: Lab, state: State) -> None:
    for h, _ns in _hosts(lab, state):
        signal_daemon(lab.name, h.name, _daemon(h), signal.SIGSTOP)


def recover_pause(lab: Lab, state: State) -> None:
    for h, _ns in _hosts(lab, state):
        signal_daemon(lab.name, h.name, _daemon(h), signal.SIGCONT)


# -- power off: the host's switch port goes dark and its processes die ----------------------------
def apply_power_off(lab: Lab, state: State) -> None:
    for h, _ns in _hosts(lab, state):
        _ip_core(lab, "link", "set", lab.port(h), "down")
        signal_daemon(lab.name, h.name, _daemon(h), signal.SIGKILL)


def recover_power_off(lab: Lab, state: State) -> None:
    for h, ns in _hosts(lab, state):
        _ip_core(lab, "link", "set", lab.port(h), "up")
        start_daemon(lab.name, ns, h.name, _daemon(h))


# -- network cuts: blackhole policy rules in the router namespace (intra-zone traffic is bridged) --
def apply_rules(lab: Lab, state: State) -> None:
    for src, dst in state["rules"]:
        _ip_core(lab, "rule", "add", "from", src, "to", dst, "blackhole", "priority", str(RULE_PRIORITY))


def recover_rules(lab: Lab, state: State) -> None:
    for src, dst in state["rules"]:
        # `ip rule add` stacks duplicates: delete until none is left.
        for _ in range(16):
            res = _ip_core(lab, "rule", "del", "from", src, "to", dst, "priority", str(RULE_PRIORITY), check=False)
            if res.returncode != 0:
                break


def plan_isolate(lab: Lab, hosts: list[Host]) -> State:
    """Cut the zones of `hosts` off from everything else (their processes keep running)."""
    topo = lab.topology()
    pairs = []
    for z in sorted({h.zone for h in hosts if h.zone}):
        cidr = str(topo.zone(z).cidr)
        pairs += [(cidr, str(LAB_NETWORK)), (str(LAB_NETWORK), cidr)]
    return {"rules": pairs}


def plan_cut_region(lab: Lab, hosts: list[Host]) -> State:
    """Cut the region of `hosts` off from the other regions; clients still reach both sides."""
    topo = lab.topology()
    inside = [str(z.cidr) for z in topo.zones if z.region == hosts[0].region]
    outside = [str(z.cidr) for z in topo.zones if z.region != hosts[0].region]
    return {"rules": [(a, b) for a in inside for b in outside] + [(b, a) for a in inside for b in outside]}


def plan_blackhole(lab: Lab, hosts: list[Host]) -> State:
    """Packets to and from the hosts vanish: peers wait for timeouts instead of being refused."""
    for h in hosts:
        guard(lab, h)
    pairs = [(f"{h.address}/32", str(LAB_NETWORK)) for h in hosts]
    return {"rules": pairs + [(str(LAB_NETWORK), f"{h.address}/32") for h in hosts]}


# -- etcd: a gateway restarted while etcd is down (cold start: 404s until etcd returns) ------------
def plan_cold_start(lab: Lab, hosts: list[Host]) -> State:
    etcd = lab.topology().by_role("etcd")
    return {**plan_hosts(lab, etcd), "restarted": plan_hosts(lab, hosts)["hosts"]}


def apply_cold_start(lab: Lab, state: State) -> None:
    apply_kill(lab, state)
    for h, ns in _hosts(lab, state, "restarted"):
        pid = signal_daemon(lab.name, h.name, _daemon(h), signal.SIGKILL)
        lab.wait_gone(pid)
        start_daemon(lab.name, ns, h.name, _daemon(h))


# -- config: a bad route pushed into etcd, rolled back to the previous revision ---------------------
def plan_bad_route(lab: Lab, hosts: list[Host]) -> State:
    keys = [f"{rootkey(h)}/http/routers/api/rule" for h in hosts]
    before = lab.etcd("/v3/kv/range", {"key": etcd_b64(keys[0])})
    return {"revision": int(before["header"]["revision"]), "keys": keys}


def apply_bad_route(lab: Lab, state: State) -> None:
    puts = [{"requestPut": {"key": etcd_b64(k), "value": etcd_b64(BAD_RULE)}} for k in state["keys"]]
    lab.etcd("/v3/kv/txn", {"success": puts})


def recover_bad_route(lab: Lab, state: State) -> None:
    """Every touched key back to its value at the revision before the bad write, in one txn."""
    ops = []
    for key in state["keys"]:
        old = lab.etcd("/v3/kv/range", {"key": etcd_b64(key), "revision": state["revision"]})
        kvs = old.get("kvs", [])
        if kvs:
            ops.append({"requestPut": {"key": etcd_b64(key), "value": kvs[0]["value"]}})
        else:
            ops.append({"requestDeleteRange": {"key": etcd_b64(key)}})
    lab.etcd("/v3/kv/txn", {"success": ops})


OPS: dict[str, tuple[Plan, Apply, Apply]] = {
    "kill": (plan_hosts, apply_kill, recover_start),
    "pause": (plan_hosts, apply_pause, recover_pause),
    "power_off": (plan_hosts, apply_power_off, recover_power_off),
    "isolate": (plan_isolate, apply_rules, recover_rules),
    "cut_region": (plan_cut_region, apply_rules, recover_rules),
    "blackhole": (plan_blackhole, apply_rules, recover_rules),
    "cold_start": (plan_cold_start, apply_cold_start, recover_start),
    "bad_route": (plan_bad_route, apply_bad_route, recover_bad_route),
}
