"""Run health checks from inside a lab namespace (the root namespace holds no lab address): the
checker script reads JSON checks on stdin and answers JSON on stdout, one subprocess per call."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from nineslab.errors import LabError
from nineslab.handle import Handle
from nineslab.services.checker import base_url
from nineslab.signals import raise_if_interrupted

# Run as a script, not `-m nineslab...`: the checker imports nothing of the package.
CHECKER_SCRIPT = Path(__file__).resolve().parent.parent / "services" / "checker.py"

Checks = dict[str, dict[str, Any]]

# etcd tokens this process was given, per (lab, member URL): etcd checks a password with bcrypt, so a
# fresh login on every checker run costs each call tens of ms of a member's CPU (a status poll asks all
# members each second). Kept in memory only; a member that restarted refuses its old token and the
# checker logs in again.
# Keyed by the lab's CA too: a lab destroyed and deployed again under its name (`compare`, the ledger, a
# test module run on both providers) is a new cluster behind the same URLs, where a token of the old one
# means nothing.
_TOKENS: dict[tuple[str, str, str], str] = {}


def _token_key(lab: str, check: dict[str, Any]) -> tuple[str, str, str]:
    ca = (check.get("tls") or {}).get("ca", "")
    try:
        ca_id = hashlib.sha256(Path(ca).read_bytes()).hexdigest()[:16] if ca else ""
    except OSError:
        ca_id = ""
    return (lab, base_url(check.get("url", "")), ca_id)


class Checker:
    """Runs checks in one place of the lab (by default the client: its resolv.conf is the lab's)."""

    def __init__(self, where: Handle) -> None:
        self.where = where

    def run(self, checks: Checks) -> Checks:
        checks = {k: self._with_token(c) for k, c in checks.items()}
        if not self.where.present():
            return {k: {"ok": False, "healthy": False, "error": f"{self.where.label} is missing"} for k in checks}
        proc = self.where.run([sys.executable, str(CHECKER_SCRIPT)], input=json.dumps(checks))
        raise_if_interrupted(proc.returncode)  # Ctrl-C reached the checker first
        if proc.returncode != 0:
            raise LabError(f"health checks failed in {self.where.label}: {proc.stderr.strip().splitlines()[-1:]}")
        result: Checks = json.loads(proc.stdout)
        for key, res in result.items():
            if res.get("token") and "auth" in checks[key]:
                _TOKENS[_token_key(self.where.lab, checks[key])] = res.pop("token")
        return result

    def _with_token(self, check: dict[str, Any]) -> dict[str, Any]:
        token = _TOKENS.get(_token_key(self.where.lab, check)) if "auth" in check else None
        return {**check, "auth": {**check["auth"], "token": token}} if token else check
