"""nineslab's own etcd client: v3 JSON-gateway calls made from inside the lab (through the checker),
answered by the first member that can."""

from __future__ import annotations

import base64
from typing import Any

from nineslab.errors import LabError
from nineslab.health.checks import Checker
from nineslab.services import etcd as etcd_service
from nineslab.topology import Host, Topology


class EtcdClient:
    def __init__(self, topology: Topology, checker: Checker, lab: str, access: dict[str, Any] | None = None) -> None:
        self.topology = topology
        self.checker = checker
        self.lab = lab
        self.access = access or {}  # the certificate and user presented (security.etcd_tls)

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One JSON-gateway call (`/v3/kv/range`, `/v3/kv/txn`, ...), answered by the first member that can.
        A read asks every member at once; a write goes to one member at a time, the next only when that
        one did not answer — sent to all at once, a transaction would be applied once per member."""
        eps = etcd_service.endpoints(self.topology)
        checks = {ep: {"kind": "http", "url": f"{ep}{path}", "data": body, **self.access} for ep in eps}
        rounds = [checks] if path == "/v3/kv/range" else [{ep: check} for ep, check in checks.items()]
        refused = None
        for batch in rounds:
            for res in self.checker.run(batch).values():
                answer = res.get("body")
                if res.get("status") == 200 and isinstance(answer, dict) and "error" not in answer:
                    return answer
                if isinstance(answer, dict) and answer.get("message", answer.get("error")):
                    refused = str(answer.get("message", answer.get("error")))
        if refused:
            # etcd answered, and said no (a compacted or future revision, a bad request): its words.
            raise LabError(f"etcd refused {path}: {refused}")
        raise LabError(f"no etcd member of lab {self.lab!r} answered {path} — is etcd up? (`nineslab status`)")

    def get(self, key: str) -> str | None:
        kvs = self.call("/v3/kv/range", {"key": etcd_service.b64(key)}).get("kvs", [])
        return base64.b64decode(kvs[0]["value"]).decode() if kvs else None

    def prefix(self, prefix: str) -> dict[str, str]:
        """Every key under `prefix` with its value, in one range request."""
        kvs = self.call("/v3/kv/range", etcd_service.prefix_range(prefix)).get("kvs", [])
        return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]).decode() for kv in kvs}

    def txn(self, ops: list[dict[str, Any]]) -> dict[str, Any]:
        """Every op in one transaction (all or nothing)."""
        return self.call("/v3/kv/txn", {"success": ops})

    def leader(self) -> str | None:
        """The member every healthy member names as leader, or None."""
        members = self.topology.by_role("etcd")
        results = self.checker.run({h.name: etcd_service.health_check(h, self.topology, self.access) for h in members})
        leader: str | None = etcd_service.summarize(self.topology, results)["leader"]
        return leader

    def serves_reads(self, members: list[Host], key: str) -> dict[str, bool]:
        """Member name -> whether it answered a linearizable read of `key` (asked of each member itself)."""
        checks = {h.name: etcd_service.read_check(h, self.topology, key, self.access) for h in members}
        return {name: bool(res.get("healthy")) for name, res in self.checker.run(checks).items()}
