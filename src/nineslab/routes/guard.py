"""Guarded route pushes (escape.guarded_push: the talk's "variable factors need rollback"): a change
goes to one canary gateway first (each gateway reads its own root key), is checked with real requests
through that gateway, then goes to the rest; if the canary fails, its keys are put back as they were at
the revision before the push, in one transaction, automatically. Every push and rollback is journalled
in etcd itself (`nineslab/routes-log/`), beside the change, in the same transaction.

Rollback reads etcd's history (a range at an older revision): the lab's etcd never compacts it
(auto-compaction off), so any revision since the deploy can be restored."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from nineslab.errors import NinesError, RolledBack
from nineslab.health import Checker, EtcdClient
from nineslab.routes.change import RouteChange
from nineslab.services import gateway
from nineslab.services.etcd import b64, prefix_range
from nineslab.topology import Host, Topology

JOURNAL = "nineslab/routes-log/"
CANARY_WITHIN_S = 5.0  # the change must be loaded and serving on the canary within this
CANARY_PASSES = 10  # answers in a row, 50 ms apart (0.5 s of real requests)
CANARY_FAILURES = 2  # errors in a row that fail the canary


def _entry(token: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"requestPut": {"key": b64(JOURNAL + token), "value": b64(json.dumps(record, sort_keys=True))}}


def revision(etcd: EtcdClient) -> int:
    """etcd's current revision."""
    return int(etcd.call("/v3/kv/range", {"key": b64(gateway.DIGEST_KEY)})["header"]["revision"])


def _values(etcd: EtcdClient, prefix: str, at: int | None = None) -> dict[str, str]:
    body: dict[str, Any] = dict(prefix_range(prefix))
    if at is not None:
        body["revision"] = at
    kvs = etcd.call("/v3/kv/range", body).get("kvs", [])
    return {base64.b64decode(kv["key"]).decode(): kv["value"] for kv in kvs}  # values stay base64


def restore_ops(etcd: EtcdClient, at: int, prefixes: list[str]) -> list[dict[str, Any]]:
    """Ops that put every key under `prefixes` back as it was at revision `at` (changed keys re-put,
    keys added since deleted); empty when nothing differs."""
    ops: list[dict[str, Any]] = []
    for prefix in prefixes:
        old, now = _values(etcd, prefix, at), _values(etcd, prefix)
        ops += [{"requestPut": {"key": b64(k), "value": v}} for k, v in old.items() if now.get(k) != v]
        ops += [{"requestDeleteRange": {"key": b64(k)}} for k in now if k not in old]
    return ops


def _canary_check(checker: Checker, gw_address: str, token: str) -> dict[str, Any]:
    check = {
        "kind": "canary",
        "url": f"http://{gw_address}{gateway.API_PATH}",
        "token": token,
        "passes": CANARY_PASSES,
        "failures": CANARY_FAILURES,
        "within_s": CANARY_WITHIN_S,
    }
    return checker.run({"canary": check})["canary"]


def _serving(checker: Checker, topo: Topology) -> list[Host]:
    """The gateways that serve the API route now (a canary must start healthy to mean anything)."""
    gws = topo.by_role("gateway")
    results = checker.run({g.name: gateway.health_check(g, topo) for g in gws})
    return [g for g in gws if results[g.name].get("healthy")]


def _pick_canary(checker: Checker, topo: Topology) -> Host:
    serving = _serving(checker, topo)
    if not serving:
        raise NinesError("no gateway serves the API route now, so none can be the canary — `nineslab heal` first")
    return serving[0]


def push(
    etcd: EtcdClient,
    checker: Checker,
    change: RouteChange,
    topo: Topology,
    final_ops: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Publish `change` to every gateway of `topo` through `etcd`, canary first (checked with real
    requests by `checker`) when the topology's escape.guarded_push is on; `final_ops` join the last
    transaction. Returns what was done; raises RolledBack (one line) when the canary failed, after the
    automatic rollback."""
    guarded = topo.escape.guarded_push
    gws = topo.by_role("gateway")
    token = f"{time.time_ns():x}"
    before = revision(etcd)
    record: dict[str, Any] = {"source": change.source, "before": before, "time": time.time(), "token": token}
    record["change"] = {"set": change.puts, "delete": list(change.deletes)}

    def publish(to: list[Any], outcome: str) -> None:
        """The change to these gateways and its journal entry, in one transaction."""
        etcd.txn([*change.ops([gateway.rootkey(g) for g in to], token), _entry(token, record | {"outcome": outcome})])

    if not guarded:
        publish(gws, "pushed")
        return record | {
            "outcome": "pushed",
            "guarded": False,
            "revision": revision(etcd),
            "gateways": [g.name for g in gws],
        }
    canary = _pick_canary(checker, topo)
    publish([canary], "canary")
    checked = _canary_check(checker, str(canary.address), token)
    if not checked.get("healthy"):
        ops = restore_ops(etcd, before, [gateway.rootkey(canary) + "/"])
        why = (
            f"HTTP {checked.get('status')}" if checked.get("ok") else str(checked.get("error", "no answer"))
        ) + f" from {canary.name} after {checked.get('seconds', 0):.1f} s"
        etcd.txn([*ops, _entry(token, record | {"outcome": "rolled back", "canary": canary.name, "reason": why})])
        raise RolledBack(
            f"route push {change.source} failed on the canary {canary.name} ({why}); rolled back to revision "
            f"{before} automatically — no other gateway received it"
        )
    rest = [g for g in gws if g != canary]
    publish(rest, "pushed")
    return record | {
        "outcome": "pushed",
        "guarded": True,
        "canary": canary.name,
        "canary_s": round(float(checked.get("seconds", 0)), 3),
        "revision": revision(etcd),
        "gateways": [canary.name, *[g.name for g in rest]],
    }


def history(etcd: EtcdClient) -> list[dict[str, Any]]:
    """Every journalled push and rollback, oldest first, each with the revision it wrote."""
    kvs = etcd.call("/v3/kv/range", dict(prefix_range(JOURNAL))).get("kvs", [])
    out = [{**json.loads(base64.b64decode(kv["value"])), "revision": int(kv["mod_revision"])} for kv in kvs]
    return sorted(out, key=lambda e: e["revision"])


def rollback(etcd: EtcdClient, to: int | None = None) -> dict[str, Any]:
    """Every gateway's routes back to revision `to` (default: before the last push that went through),
    in one transaction."""
    if to is None:
        pushed = [e for e in history(etcd) if e.get("outcome") == "pushed"]
        if not pushed:
            raise NinesError("no route push to roll back — see `nineslab routes history`, or give a REVISION")
        to = int(pushed[-1]["before"])
    now = revision(etcd)
    if not 1 <= to <= now:
        raise NinesError(f"revision {to} does not exist (etcd is at revision {now}) — see `nineslab routes history`")
    ops = restore_ops(etcd, to, [gateway.ROOTKEY_PREFIX])
    token = f"{time.time_ns():x}"
    record = {"outcome": "rollback", "to": to, "before": now, "time": time.time(), "token": token, "keys": len(ops)}
    etcd.txn([*ops, _entry(token, record)])
    return record | {"revision": revision(etcd)}


def publish_topology(etcd: EtcdClient, checker: Checker, topology: Topology) -> dict[str, Any] | None:
    """Deploy's route step over a running lab: the keys of `topology`'s routes that differ from etcd,
    pushed through the guard (with the route digest, so the playbook's own route step then has nothing
    to do). None when there is nothing to guard: the guard is off, etcd does not answer, no gateway
    serves yet (a first deploy, a broken lab: the playbook publishes as it always did), or nothing differs."""
    if not topology.escape.guarded_push:
        return None
    try:
        current = etcd.prefix(gateway.ROOTKEY_PREFIX)
        if not _serving(checker, topology):
            return None
    except NinesError:
        return None
    by_root: dict[str, dict[str, str]] = {}
    gone: dict[str, tuple[str, ...]] = {}
    for g in topology.by_role("gateway"):
        root = gateway.rootkey(g)
        wanted = {k[len(root) + 1 :]: v for k, v in gateway.route_keys(topology, g).items()}
        have = {k[len(root) + 1 :]: v for k, v in current.items() if k.startswith(f"{root}/")}
        by_root[root] = {k: v for k, v in wanted.items() if have.get(k) != v}
        gone[root] = tuple(k for k in have if k not in wanted and k != gateway.ROUTES_MARKER)
    if not any(by_root.values()) and not any(gone.values()):
        return None
    change = RouteChange(source=f"deploy of {topology.name}", by_root=by_root, deletes_by_root=gone)
    return push(etcd, checker, change, topology, final_ops=[gateway.digest_put(topology)])
