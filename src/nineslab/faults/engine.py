"""Inject / recover / heal. A fault's state file is written BEFORE anything is injected, so `recover`
and `heal` work from any other process, after a crash, and any number of times."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nineslab.errors import NinesError
from nineslab.faults import ops
from nineslab.faults.catalogue import FaultSpec, find
from nineslab.faults.targets import resolve
from nineslab.load.runner import kill_leftover
from nineslab.services import DAEMONS, gateway
from nineslab.services.process import signal_daemon, start_daemon

if TYPE_CHECKING:
    from nineslab.lab import Lab


def _state_dir(lab: Lab) -> Path:
    return lab.dir / "faults"


def active_faults(lab: Lab) -> list[dict[str, Any]]:
    d = _state_dir(lab)
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.glob("*.json")):
        try:
            out.append(json.loads(p.read_text()))
        except ValueError:
            continue  # half-written by a crash: heal's sweep covers what it would have said
    return out


def inject(lab: Lab, name: str, spec: FaultSpec | None = None) -> dict[str, Any]:
    """Inject fault `name` (from the catalogue, or `spec` as given). Returns the fault record with
    wall-clock times: `inject_start` is taken before anything is touched."""
    topology = lab.topology()
    spec = spec or find(name, topology)
    path = _state_dir(lab) / f"{spec.name}.json"
    if path.exists():
        raise NinesError(f"fault {spec.name!r} is already injected — `nineslab recover {spec.name}` or `nineslab heal`")
    inject_start = time.time()
    leader = lab.etcd_leader() if spec.target in ("leader", "follower") else None
    hosts = resolve(topology, spec.role, spec.target, leader)
    plan, apply, _recover = ops.OPS[spec.op]
    state = plan(lab, hosts)
    record: dict[str, Any] = {
        "fault": spec.name,
        "op": spec.op,
        "kind": spec.kind,
        "role": spec.role,
        "target": spec.target,
        "hosts": [h.name for h in hosts],
        "state": state,
        "inject_start": inject_start,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, record)  # before apply: a crash from here on is recoverable
    apply(lab, state)
    record["inject_end"] = time.time()
    _write(path, record)
    return record


def recover(lab: Lab, name: str) -> dict[str, Any]:
    path = _state_dir(lab) / f"{name}.json"
    if not path.exists():
        return {"fault": name, "recovered": False, "note": "not injected (nothing to recover)"}
    record: dict[str, Any] = json.loads(path.read_text())
    record["recover_start"] = time.time()
    ops.OPS[record["op"]][2](lab, record["state"])
    record["recover_end"] = time.time()
    path.unlink()
    return {**record, "recovered": True}


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)  # atomic: a reader never sees half a state file


def heal(lab: Lab, wait_s: float = 60.0, progress: Any = None) -> dict[str, Any]:
    """Undo every fault the catalogue can cause, recorded or not, and wait for the lab to be healthy."""
    say = progress or (lambda _m: None)
    topology = lab.topology()
    actions: list[str] = []
    errors: list[str] = []
    for record in active_faults(lab):
        try:
            recover(lab, record["fault"])
            actions.append(f"recovered {record['fault']}")
        except Exception as exc:  # noqa: BLE001 - heal keeps going; the sweep below covers it
            errors.append(f"recover {record['fault']}: {exc}")
    for p in _state_dir(lab).glob("*.tmp"):  # a missing directory globs to nothing
        p.unlink()
    if kill_leftover(lab.dir / "load.pid"):
        actions.append("stopped a leftover load generator")
    # The sweep: whatever a crash left unrecorded.
    for _ in range(64):
        res = subprocess.run(
            ["ip", "-n", f"{lab.name}-core", "rule", "del", "priority", str(ops.RULE_PRIORITY)], capture_output=True
        )
        if res.returncode != 0:
            break
        actions.append("removed a network cut")
    for host in topology.hosts:
        if host.role == "client":
            continue
        ns = ops.guard(lab, host)
        subprocess.run(["ip", "-n", f"{lab.name}-core", "link", "set", lab.port(host), "up"], capture_output=True)
        signal_daemon(lab.name, host.name, DAEMONS[host.role], signal.SIGCONT)
        try:
            if start_daemon(lab.name, ns, host.name, DAEMONS[host.role]):
                actions.append(f"started {host.name}/{DAEMONS[host.role]}")
        except (OSError, RuntimeError) as exc:
            errors.append(str(exc))
    say("heal: waiting for etcd, then checking routes")
    if _restore_routes(lab):
        actions.append("restored the routes in etcd")
    say("heal: waiting for the lab to be healthy")
    deadline = time.monotonic() + wait_s
    status = lab.status(topology)
    while not status["healthy"] and time.monotonic() < deadline:
        time.sleep(1.0)
        status = lab.status(topology)
    return {"healthy": status["healthy"], "actions": actions, "errors": errors, "status": status}


def _restore_routes(lab: Lab, wait_s: float = 20.0) -> bool:
    """If etcd does not hold the topology's routes (a bad push never rolled back), write them all."""
    topology = lab.topology()
    want = gateway.all_route_keys(topology)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            current = lab.etcd_prefix(gateway.ROOTKEY_PREFIX)
            break
        except NinesError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    if all(current.get(k) == v for k, v in want.items()):
        return False
    lab.etcd("/v3/kv/txn", {"success": gateway.routes_txn(topology)["failure"]})
    return True
