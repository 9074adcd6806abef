"""What every op is made of: the `Op` record, its parameter checks, the lab's own hosts and their
daemons, and the daemon acts several families share (hold down, start)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from nineslab.clocks import Acts
from nineslab.errors import NinesError
from nineslab.handle import Handle
from nineslab.services import daemons
from nineslab.topology import Host, Topology

if TYPE_CHECKING:
    from nineslab.health.checks import Checker
    from nineslab.health.etcd_client import EtcdClient
    from nineslab.providers import Provider

__all__ = [
    "Apply",
    "Op",
    "ParamCheck",
    "Params",
    "Plan",
    "State",
    "Sweep",
    "Swept",
    "apply_stop",
    "daemons_of",
    "every_daemon",
    "is_daemon_name",
    "is_share",
    "is_switch",
    "owned",
    "plan_host_names",
    "plan_hosts",
    "recover_start",
    "signal_daemons",
    "start_daemons",
    "sweep_start",
]


class Lab(Protocol):
    """What an op uses of a lab, and nothing more: its name, its provider (the way into its hosts), its
    topology, and for the control-plane ops its etcd and a checker. `nineslab.lab.Lab` is one."""

    name: str
    provider: Provider

    def topology(self) -> Topology: ...

    @property
    def etcd(self) -> EtcdClient: ...

    def checker(self, where: Handle | None = None) -> Checker: ...


State = dict[str, Any]
Params = dict[str, Any]
Plan = Callable[["Lab", list[Host], Params], State]
# Applies or recovers; what the provider's hands did on hosts with clocks of their own (None: nothing).
Apply = Callable[["Lab", State], Acts | None]
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


def owned(lab: Lab, host: Host) -> Handle:
    """The way into the host, after checking it belongs to this lab: refuse anything else."""
    where = lab.provider.host(host)
    if not lab.provider.owns(host):
        raise NinesError(f"refusing to touch {host.name} ({where.label}, {host.address}): not part of lab {lab.name}")
    return where


def is_switch(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def is_share(value: Any) -> str | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1
    return None if ok else "must be a share strictly between 0 and 1 (0.3 = 30 %)"


def is_daemon_name(value: Any) -> str | None:
    return None if isinstance(value, str) and value.isidentifier() else "must be a daemon name (see `nineslab status`)"


# -- hosts and their daemons -------------------------------------------------------------------------
def plan_hosts(lab: Lab, hosts: list[Host], params: Params) -> State:
    """The hosts, and which of their daemons: all of them, or only `params["daemon"]`."""
    for h in hosts:
        owned(lab, h)
    only = params.get("daemon")
    topo = lab.topology()
    chosen = {h.name: [d for d in daemons(h, topo) if only in (None, d)] for h in hosts}
    if only is not None and not any(chosen.values()):
        raise NinesError(f"params.daemon: no selected host runs {only!r} — use one of the role's daemons")
    return {"hosts": [h.name for h in hosts], "daemons": chosen}


def daemons_of(lab: Lab, state: State, key: str = "hosts") -> list[tuple[Host, str]]:
    """(host, daemon) for every daemon the state names (all of a host's, in older states), each host
    checked to be the lab's."""
    topo = lab.topology()
    chosen = state.get("daemons", {})
    out = []
    for name in state[key]:
        host = topo.host(name)
        owned(lab, host)
        out += [(host, d) for d in chosen.get(name, daemons(host, topo))]
    return out


def signal_daemons(lab: Lab, state: State, sig: int, key: str = "hosts") -> Acts:
    return [a for h, d in daemons_of(lab, state, key) for a in lab.provider.signal_daemon(h, d, sig)]


def start_daemons(lab: Lab, state: State, key: str = "hosts") -> Acts:
    return [a for h, d in daemons_of(lab, state, key) for a in lab.provider.start_daemon(h, d).acts]


def every_daemon(lab: Lab) -> list[tuple[Host, str]]:
    topo = lab.topology()
    hosts = [h for h in topo.hosts if daemons(h, topo)]
    return daemons_of(lab, {"hosts": [h.name for h in hosts]})


def plan_host_names(lab: Lab, hosts: list[Host], params: Params) -> State:
    return {"hosts": [h.name for h in hosts]}


def apply_stop(lab: Lab, state: State, key: str = "hosts") -> Acts:
    """Down until recovered: the supervisor is told to leave the daemon down, then it is killed."""
    return [a for h, d in daemons_of(lab, state, key) for a in lab.provider.hold_down(h, d)]


def recover_start(lab: Lab, state: State) -> Acts:
    return start_daemons(lab, state)


START_WORKERS = 8  # hosts whose daemons a sweep starts side by side


def sweep_start(lab: Lab) -> Swept:
    """Start every daemon of the lab that is not running: the hosts side by side (each start is a
    process of about 40 ms here, or an SSH round trip), one host's daemons one after another (two start
    scripts of one host at once could each start its supervision tree)."""
    by_host: dict[str, list[tuple[Host, str]]] = {}
    for h, d in every_daemon(lab):
        by_host.setdefault(h.name, []).append((h, d))

    def start_host(pairs: list[tuple[Host, str]]) -> Swept:
        actions, errors = [], []
        for h, d in pairs:
            try:
                if lab.provider.start_daemon(h, d).started:
                    actions.append(f"started {h.name}/{d}")
            except (OSError, RuntimeError, NinesError) as exc:  # NinesError: a machine SSH cannot reach
                errors.append(str(exc))
        return actions, errors

    with ThreadPoolExecutor(max_workers=START_WORKERS) as pool:
        done = list(pool.map(start_host, by_host.values()))  # in host order
    return [a for actions, _ in done for a in actions], [e for _, errors in done for e in errors]
