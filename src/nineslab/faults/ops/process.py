"""Process faults: a crash, a pause, and a gateway restarted while etcd is down."""

from __future__ import annotations

import signal

from nineslab.clocks import Acts
from nineslab.errors import NinesError
from nineslab.faults.ops.base import (
    Lab,
    Params,
    State,
    Swept,
    apply_stop,
    daemons_of,
    every_daemon,
    plan_hosts,
    signal_daemons,
)
from nineslab.providers.base import CONTAINER
from nineslab.topology import Host

__all__ = ["apply_cold_start", "apply_kill", "apply_pause", "plan_cold_start", "recover_pause", "sweep_pause"]


def apply_kill(lab: Lab, state: State) -> Acts:
    """A crash: under a supervisor (escape.supervisor) the daemon is back at once — the fault measures that."""
    return signal_daemons(lab, state, signal.SIGKILL)


def _freeze(lab: Lab, names: list[str], frozen: bool) -> bool:
    """The whole hosts frozen (or thawed) where the provider can (a container); False where it cannot."""
    if CONTAINER not in lab.provider.capabilities:
        return False
    topo = lab.topology()
    return all([lab.provider.freeze(topo.host(name), frozen) for name in names])


def apply_pause(lab: Lab, state: State) -> Acts:
    """SIGSTOP of the host's daemons; on a container host the whole host is frozen (`docker pause`)."""
    return [] if _freeze(lab, state["hosts"], True) else signal_daemons(lab, state, signal.SIGSTOP)


def recover_pause(lab: Lab, state: State) -> Acts:
    return [] if _freeze(lab, state["hosts"], False) else signal_daemons(lab, state, signal.SIGCONT)


def sweep_pause(lab: Lab) -> Swept:
    """Every host thawed and SIGCONT to every daemon of the lab (a running one ignores it)."""
    _freeze(lab, [h.name for h in lab.topology().hosts if h.role != "client"], False)
    errors = []
    for h, d in every_daemon(lab):
        try:
            lab.provider.signal_daemon(h, d, signal.SIGCONT)
        except NinesError as exc:  # a machine SSH cannot reach: the others still get theirs
            errors.append(str(exc))
    return [], errors


# -- etcd: a gateway restarted while etcd is down (cold start: 404s until etcd returns) ------------
def plan_cold_start(lab: Lab, hosts: list[Host], params: Params) -> State:
    etcd = plan_hosts(lab, lab.topology().by_role("etcd"), {})
    restarted = plan_hosts(lab, hosts, {})
    return {**etcd, "restarted": restarted["hosts"], "daemons": {**etcd["daemons"], **restarted["daemons"]}}


def apply_cold_start(lab: Lab, state: State) -> Acts:
    acts = apply_stop(lab, state)
    for h, d in daemons_of(lab, state, "restarted"):
        acts += lab.provider.restart_daemon(h, d)
    return acts
