"""Resource faults: a host short of CPU, of disk or of memory."""

from __future__ import annotations

from collections.abc import Callable

from nineslab import cgroups
from nineslab.clocks import Acts
from nineslab.errors import NinesError
from nineslab.faults.ops.base import Lab, Params, State, Swept, owned, start_daemons, sweep_start
from nineslab.providers.base import CONTAINER
from nineslab.topology import Host

__all__ = [
    "apply_disk_full",
    "apply_memory_pressure",
    "apply_slow",
    "plan_slow",
    "recover_disk_full",
    "recover_memory_pressure",
    "recover_slow",
    "sweep_disk_full",
    "sweep_memory_pressure",
    "sweep_slow",
]


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
        owned(lab, h)
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


# -- host faults only a host with a disk and a memory of its own has (the docker provider) -------------
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


def recover_memory_pressure(lab: Lab, state: State) -> Acts:
    """The memory back, then the daemons the OOM killer took and no supervisor brought back started."""
    _each_host(lab, state, lab.provider.squeeze_memory, False)
    return start_daemons(lab, state)


def sweep_memory_pressure(lab: Lab) -> Swept:
    """Every squeezer ended and every host's memory given back; then every daemon started (heal's first
    sweep started them while a squeezer may still have held the limit down)."""
    done = [done for h in _container_hosts(lab) if (done := lab.provider.squeeze_memory(h, False))]
    if not done:
        return [], []
    started, errors = sweep_start(lab)
    return done + started, errors
