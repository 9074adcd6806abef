"""Inject / recover / heal. A fault's state file is written BEFORE anything is injected, so `recover`
and `heal` work from any other process, after a crash, and any number of times."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from nineslab.clocks import on_client_clock
from nineslab.defaults import HEAL_WAIT_S
from nineslab.errors import NinesError
from nineslab.faults.catalogue import FaultSpec, find
from nineslab.faults.ops import OPS, sweeps
from nineslab.faults.ops.base import Lab as OpsLab
from nineslab.faults.selection import select_hosts
from nineslab.load import LOAD_PIDFILE
from nineslab.process import end_orphaned_group
from nineslab.topology import Topology


class Lab(OpsLab, Protocol):
    """What the engine uses of a lab beyond its ops': its directory (the faults' state files), who holds
    each floating address (a `holder` selection) and its status (heal's wait). `nineslab.lab.Lab` is one."""

    dir: Path

    def vip_holders(self) -> dict[str, str | None]: ...

    def status(self, topology: Topology | None = None) -> dict[str, Any]: ...


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


def fault_record(spec: FaultSpec, hosts: list[str], state: dict[str, Any], planned_at: float) -> dict[str, Any]:
    """What the state file holds: enough for any process to recover the fault."""
    return {
        "fault": spec.name,
        "op": spec.op,
        "kind": spec.kind,
        "role": spec.role,
        "select": spec.select,
        "params": spec.params,
        "hosts": hosts,
        "state": state,
        "planned_at": planned_at,  # hosts chosen, nothing touched yet
    }


def plan(lab: Lab, spec: FaultSpec, planned_at: float | None = None) -> dict[str, Any]:
    """The fault record an inject would write — the hosts chosen now and everything recovery will need —
    with nothing changed (the ops' plans only read)."""
    topology = lab.topology()
    leader = lab.etcd.leader() if spec.select in ("leader", "follower") else None
    holders = [h for h in lab.vip_holders().values() if h] if spec.select == "holder" else None
    hosts = select_hosts(topology, spec.role, spec.select, leader, holders)
    state = OPS[spec.op].plan(lab, hosts, spec.params)
    return fault_record(spec, [h.name for h in hosts], state, time.time() if planned_at is None else planned_at)


def inject(lab: Lab, name: str, spec: FaultSpec | None = None) -> dict[str, Any]:
    """Inject fault `name` (from the catalogue, or `spec` as given). Returns the fault record with
    wall-clock times: `planned_at` (before anything is touched), `apply_start` (the op begins to change
    the lab: the fault's window opens here), `inject_end` (applied)."""
    spec = spec or find(name, lab.topology(), capabilities=lab.provider.capabilities)
    path = _state_dir(lab) / f"{spec.name}.json"
    if path.exists():
        raise NinesError(f"fault {spec.name!r} is already injected — `nineslab recover {spec.name}` or `nineslab heal`")
    record = plan(lab, spec, planned_at=time.time())
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, record)  # before apply: a crash from here on is recoverable
    record["apply_start"] = time.time()  # the fault can take effect from here (its window's start)
    acts = OPS[spec.op].apply(lab, record["state"]) or []
    record["inject_end"] = time.time()
    # where the hosts keep their own clocks: when it acted on each, on this machine's time line
    record.update(on_client_clock(acts, lab.provider.clock_offsets()))
    _write(path, record)
    return record


def dry_run(lab: Lab, spec: FaultSpec) -> dict[str, Any]:
    """What injecting `spec` would do now: its plan, the processes it would touch (by their pidfiles)
    and how long it would hold — nothing written, nothing touched."""
    try:
        record = plan(lab, spec)
    except NinesError as exc:  # e.g. no etcd leader to choose now: the run would choose one later
        return {"fault": spec.name, "op": spec.op, "hold_s": spec.hold_s, "hosts": [], "unplanned": str(exc)}
    daemons = record["state"].get("daemons", {})
    topo = lab.topology()
    pids = {f"{h}/{d}": lab.provider.daemon_pid(topo.host(h), d) for h, ds in daemons.items() for d in ds}
    return {**record, "hold_s": spec.hold_s, "summary": OPS[spec.op].summary, "processes": pids}


def describe_dry_run(plan: dict[str, Any]) -> list[str]:
    """A dry run's plan in words, one fact per line. Pure."""
    head = f"{plan['fault']}: {plan['op']} for {plan['hold_s']:g} s"
    if plan.get("unplanned"):
        return [f"{head} — hosts chosen when it runs ({plan['unplanned']})"]
    lines = [f"{head} on {', '.join(plan['hosts'])} — {plan['summary']}"]
    if plan["processes"]:
        procs = ", ".join(f"{k} pid {v if v else 'not running'}" for k, v in plan["processes"].items())
        lines.append(f"  processes: {procs}")
    state = plan["state"]
    for src, dst in state.get("rules", []):
        lines.append(f"  router rule: blackhole from {src} to {dst}")
    for host, found in state.get("cgroups", {}).items():
        lines.append(f"  cgroup: {len(found)} processes of {host} throttled to {state['share']:g} of a CPU")
    if "share" in state and "netns" in state:
        where = ", ".join(state.get("zones") or state["netns"])
        lines.append(f"  packet drop: {state['share']:g} of the packets of {where}")
    for key in ("answer", "revision", "roots", "restarted", "flush_client_resolver"):
        if key in state:
            lines.append(f"  {key}: {state[key]}")
    return lines


def recover(lab: Lab, name: str) -> dict[str, Any]:
    path = _state_dir(lab) / f"{name}.json"
    try:
        record: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return {"fault": name, "recovered": False, "note": "not injected (nothing to recover)"}
    record["recover_start"] = time.time()
    acts = OPS[record["op"]].recover(lab, record["state"]) or []
    record["recover_end"] = time.time()
    record.update(on_client_clock(acts, lab.provider.clock_offsets(), key="recovered"))
    path.unlink(missing_ok=True)  # a stop condition and the experiment's rollback may both recover it
    return {**record, "recovered": True}


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)  # atomic: a reader never sees half a state file


def sweep_after(lab: Lab, spec: FaultSpec) -> list[str]:
    """Between a suite's faults: what `spec` may have left — its state file if its recovery did not
    run through, then its op's own sweep (daemons left down, rules, cgroups) — and nothing else: no
    other op's sweep and no wait for health, which the end of the run does once. What was done (and
    what failed, marked so), one line each."""
    out: list[str] = []
    for record in active_faults(lab):
        try:
            recover(lab, record["fault"])
            out.append(f"recovered {record['fault']}")
        except Exception as exc:  # noqa: BLE001 - the run's final heal sweeps it again
            out.append(f"FAILED to recover {record['fault']}: {exc}")
    try:
        done, failed = OPS[spec.op].sweep(lab)
    except NinesError as exc:
        done, failed = [], [str(exc)]
    return out + done + [f"FAILED: {f}" for f in failed]


def heal(lab: Lab, wait_s: float = HEAL_WAIT_S, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Undo every fault the catalogue can cause, recorded or not, and wait for the lab to be healthy:
    recorded faults are recovered from their state files, then every op's sweep runs once."""
    say = progress or (lambda _m: None)
    topology = lab.topology()
    actions: list[str] = []
    errors: list[str] = []
    for record in active_faults(lab):
        try:
            recover(lab, record["fault"])
            actions.append(f"recovered {record['fault']}")
        except Exception as exc:  # noqa: BLE001 - heal keeps going; the sweeps below cover it
            errors.append(f"recover {record['fault']}: {exc}")
    for p in _state_dir(lab).glob("*.tmp"):  # a missing directory globs to nothing
        p.unlink()
    if end_orphaned_group(lab.dir / LOAD_PIDFILE):
        actions.append("stopped a leftover load generator")
    say("heal: sweeping what a crash may have left (processes, links, network cuts, routes)")
    for sweep in sweeps(lab.provider.capabilities):
        try:
            done, failed = sweep(lab)
        except NinesError as exc:
            done, failed = [], [f"{sweep.__name__}: {exc}"]
        actions += done
        errors += failed
    say("heal: waiting for the lab to be healthy")
    deadline = time.monotonic() + wait_s
    status = lab.status(topology)
    while not status["healthy"] and time.monotonic() < deadline:
        time.sleep(1.0)
        status = lab.status(topology)
    return {"healthy": status["healthy"], "actions": actions, "errors": errors, "status": status}
