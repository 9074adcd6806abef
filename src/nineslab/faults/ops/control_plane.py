"""Control-plane faults: etcd's certificates and the routes it holds."""

from __future__ import annotations

import contextlib
import time

from nineslab.clocks import Acts
from nineslab.errors import NinesError, RolledBack
from nineslab.faults.ops.base import Lab, Params, State, Swept, apply_stop, plan_hosts, start_daemons
from nineslab.health.watches import stale_watches
from nineslab.routes import RouteChange, guard
from nineslab.security import etcd_access
from nineslab.services import gateway
from nineslab.topology import Host

__all__ = [
    "BAD_CHANGE",
    "BAD_RULE",
    "apply_bad_push",
    "apply_bad_route",
    "apply_expired_cert",
    "plan_bad_route",
    "plan_expired_cert",
    "recover_bad_route",
    "recover_expired_cert",
    "sweep_expired_cert",
    "sweep_gray_members",
    "sweep_routes",
    "sweep_stale_watches",
]


BAD_RULE = "PathPrefix(`/broken-by-nineslab`)"


# -- etcd: a member restarted with an expired certificate (security.etcd_tls) ----------------------
def plan_expired_cert(lab: Lab, hosts: list[Host], params: Params) -> State:
    if any(h.role != "etcd" for h in hosts):
        raise NinesError("expired_cert acts on etcd members only — select `role: etcd`")
    return plan_hosts(lab, hosts, params)


def _restart(lab: Lab, state: State) -> Acts:
    """Stopped (held down under a supervisor, so it cannot come back on the old files) and started again."""
    return apply_stop(lab, state) + start_daemons(lab, state)


def apply_expired_cert(lab: Lab, state: State) -> Acts:
    topo = lab.topology()
    for name in state["hosts"]:
        etcd_access.write_expired(lab.name, topo, name)
    return _restart(lab, state)


def recover_expired_cert(lab: Lab, state: State) -> Acts:
    for name in state["hosts"]:
        etcd_access.restore_certificate(lab.name, name)
    return _restart(lab, state)


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


GRAY_LOOKS = 3  # a member is gray when it fails this many linearizable reads in a row, 1 s apart


def sweep_gray_members(lab: Lab) -> Swept:
    """Every etcd member that answers its status but cannot serve a linearizable read, restarted while the
    others hold a quorum. After a partition heals, the member cut off can keep a half-open stream to the
    leader: its ReadIndex requests and proposals (a login, a write) are lost for about 45 s (measured on
    3dc after region-south-dark, etcd 3.5; etcd-io/etcd#18052), while it still applies the leader's
    entries and its status looks fine. A restart connects it anew at once."""
    members = lab.topology().by_role("etcd")
    if not members:
        return [], []
    gray: set[str] = {h.name for h in members}
    for look in range(GRAY_LOOKS):
        answered = lab.etcd.serves_reads([h for h in members if h.name in gray], gateway.DIGEST_KEY)
        gray = {name for name, ok in answered.items() if not ok}
        if not gray:
            return [], []
        if look < GRAY_LOOKS - 1:
            time.sleep(1.0)
    if len(members) - len(gray) <= len(members) // 2:
        # no quorum of members that serve: restarting one could only make it worse; heal reports it
        return [], [f"etcd members {', '.join(sorted(gray))} cannot serve a linearizable read (no quorum that can)"]
    actions, errors = [], []
    for h in members:
        if h.name not in gray:
            continue
        try:
            lab.provider.restart_daemon(h, "etcd", graceful=True)
            actions.append(f"restarted {h.name}/etcd: it answered but could not serve a linearizable read")
        except (OSError, RuntimeError) as exc:
            errors.append(f"{h.name}/etcd: {exc}")
    return actions, errors
