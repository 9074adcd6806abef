"""Is etcd — the estate's only state — the same on every member? `etcdctl endpoint hashkv` asks each
member for the hash of its key-value store at one revision; members that applied the same history
answer the same hash. Checked after every run (and in the reliability campaign): a disagreement is
data loss or corruption, and fails the run whatever its availability figures say."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

from nineslab.handle import Handle
from nineslab.paths import etcd_bin
from nineslab.providers import Provider
from nineslab.security import etcd_access
from nineslab.services import etcd as etcd_service
from nineslab.topology import Topology

ATTEMPTS = 5  # a member that just came back may still be catching up to the others' revision
ATTEMPT_GAP_S = 1.0


def compare_hashes(status: list[dict[str, Any]], hashes: list[dict[str, Any]], names: dict[str, str]) -> dict[str, Any]:
    """`etcdctl endpoint status` and `endpoint hashkv --rev R` JSON (one entry per answering endpoint)
    -> the verdict. Pure. `names`: endpoint URL -> member name. Consistent means every member answered,
    all at revision R, with one hash."""
    revisions = {names.get(s["Endpoint"], s["Endpoint"]): int(s["Status"]["header"]["revision"]) for s in status}
    members = {names.get(h["Endpoint"], h["Endpoint"]): int(h["HashKV"]["hash"]) for h in hashes}
    missing = sorted(set(names.values()) - set(members))
    revision = min(revisions.values()) if revisions else None
    out: dict[str, Any] = {"revision": revision, "revisions": revisions, "hashes": members, "missing": missing}
    if missing:
        return {**out, "consistent": None, "reason": f"no hash from {', '.join(missing)}"}
    if len(set(members.values())) > 1:
        detail = ", ".join(f"{m}={h}" for m, h in sorted(members.items()))
        return {**out, "consistent": False, "reason": f"etcd members disagree at revision {revision}: {detail}"}
    return {**out, "consistent": True, "reason": f"{len(members)} members agree at revision {revision}"}


def _etcdctl(where: Handle, endpoints: list[str], access: list[str], *args: str) -> tuple[list[dict[str, Any]], str]:
    """One etcdctl call with JSON output from inside the lab, and the last line it wrote to stderr; the
    endpoints that did not answer are simply absent (etcdctl prints what it got and exits non-zero)."""
    cmd = [
        str(etcd_bin("etcdctl")),
        f"--endpoints={','.join(endpoints)}",
        "--dial-timeout=2s",
        "--command-timeout=5s",
        *access,
        *args,
        "-w",
        "json",
    ]
    try:
        res = where.run(cmd, timeout=30)
    except subprocess.TimeoutExpired:
        return [], "etcdctl did not return within 30 s"
    said = (res.stderr.strip().splitlines() or [""])[-1][-300:]
    try:
        data = json.loads(res.stdout or "[]")
    except ValueError:
        return [], said
    return (data if isinstance(data, list) else [data]), said


def etcd_consistency(provider: Provider, topology: Topology) -> dict[str, Any]:
    """Hash every member's store at the lowest revision any member has reached (a hash at a revision
    one member has not applied yet cannot be compared); retried while a member is missing or behind."""
    members = topology.by_role("etcd")
    endpoints = etcd_service.endpoints(topology)
    names = {ep: h.name for ep, h in zip(endpoints, members, strict=True)}
    router = provider.router()  # the operator's vantage point: the client segment cannot reach etcd
    # hashkv is an administrator's call: etcd's root user (its certificate and password) under TLS
    try:
        access = etcd_access.etcdctl_flags(provider.lab, etcd_access.ROOT) if topology.security.etcd_tls else []
    except OSError as exc:
        return {
            "consistent": None,
            "revision": None,
            "hashes": {},
            "reason": f"no root credentials: {exc}",
            "attempts": 0,
        }
    result: dict[str, Any] = {}
    for attempt in range(1, ATTEMPTS + 1):
        status, said = _etcdctl(router, endpoints, access, "endpoint", "status")
        revisions = [int(s["Status"]["header"]["revision"]) for s in status]
        hashes: list[dict[str, Any]] = []
        if revisions:
            hashes, said = _etcdctl(router, endpoints, access, "endpoint", "hashkv", "--rev", str(min(revisions)))
        result = {**compare_hashes(status, hashes, names), "attempts": attempt, "checked_at": time.time()}
        if result["consistent"] is None and said:
            result["reason"] += f" (etcdctl: {said})"
        if result["consistent"] is not None:
            return result
        time.sleep(ATTEMPT_GAP_S)
    return result
