"""Whether a deploy would change nothing, proven on the running lab rather than remembered: then deploy
skips Terraform and Ansible whole (a no-op deploy of 3dc spent ~9 s in them to change nothing).

Proven means all of these hold now:
- the inputs are the ones the last finished deploy used: the topology file, the provider, the code
  that turns them into hosts and configurations (nineslab, playbooks, Terraform), the daemons'
  binaries and the lab's certificates (`inputs_digest`);
- every daemon each host should run loaded the configuration on disk: its start script records the
  digest of each file it loads (`run/<daemon>.loaded`) at each real start, compared with the files now;
- the routes in etcd are the topology's (`routes_differ`), and the lab is healthy (every daemon's PID
  alive, every health check answered) with its fence in place — the caller checks that with status.
Anything else, and deploy runs in full, which repairs what is broken and touches nothing else."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from nineslab.paths import PACKAGE_DIR, PLAYBOOK_DIR, TERRAFORM_DIR, binaries, host_dir
from nineslab.services import daemons, gateway
from nineslab.topology import Topology

INPUTS_KEY = "inputs"  # lab.json: the inputs digest of the last deploy that finished healthy
LOADED_SUFFIX = ".loaded"  # run/<daemon>.loaded, written by the start script (daemon.start.j2)
CODE_DIRS = (PACKAGE_DIR, PLAYBOOK_DIR, TERRAFORM_DIR)
SKIP_PARTS = {"__pycache__", ".terraform", ".mypy_cache", ".ruff_cache"}


def _files(root: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_PARTS)
        out += [Path(dirpath) / f for f in sorted(filenames) if not f.endswith((".pyc", ".tfstate", ".lock.hcl"))]
    return out


def inputs_digest(topology: Topology, provider: str, pki_dir: Path) -> str:
    """Everything a deploy's result depends on besides the running lab, as one digest."""
    h = hashlib.sha256()
    h.update(f"provider {provider}\n".encode())
    h.update(Path(topology.source).read_bytes())
    for root in CODE_DIRS:
        for f in _files(root):
            h.update(f"\n{f.relative_to(root.parent)}\n".encode())
            h.update(f.read_bytes())
    for name, path in sorted(binaries().items()):
        try:
            st = os.stat(path)
            h.update(f"\n{name} {path} {st.st_size} {st.st_mtime_ns}".encode())
        except OSError:
            h.update(f"\n{name} {path} missing".encode())
    if pki_dir.is_dir():
        for f in _files(pki_dir):
            h.update(f"\n{f.name}\n".encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def stale_files(hdir: Path, record: str) -> list[str]:
    """The files of a daemon's record (`sha1sum` lines, paths under the host's directory: its start
    script and the configuration it loaded) that are no longer what it loaded; all of them when the
    record is empty."""
    if not record.strip():
        return ["(no record of what it loaded)"]
    out = []
    for line in record.splitlines():
        digest, _, name = line.partition("  ")
        try:
            now = hashlib.sha1((hdir / name).read_bytes()).hexdigest()
        except OSError:
            now = ""
        if now != digest:
            out.append(name)
    return out


def stale_daemons(lab: str, topology: Topology) -> list[str]:
    """ "host/daemon" for each daemon whose running process did not load the configuration on disk (or
    that left no record of what it loaded)."""
    out = []
    for host in topology.hosts:
        hdir = host_dir(lab, host.name)
        for d in daemons(host, topology):
            try:
                record = (hdir / "run" / f"{d}{LOADED_SUFFIX}").read_text()
            except OSError:
                record = ""
            if stale_files(hdir, record):
                out.append(f"{host.name}/{d}")
    return out


def routes_differ(topology: Topology, current: dict[str, str], digest: str | None) -> list[str]:
    """The route keys a deploy would write or delete, given etcd's keys under the gateways' root keys
    and its route digest (the playbook's transaction compares that digest)."""
    wanted = gateway.all_route_keys(topology)
    markers = {f"{gateway.rootkey(g)}/{gateway.ROUTES_MARKER}" for g in topology.by_role("gateway")}
    differ = sorted(k for k, v in wanted.items() if current.get(k) != v)
    differ += sorted(k for k in current if k not in wanted and k not in markers)
    if digest != gateway.routes_digest(topology):
        differ.append(gateway.DIGEST_KEY)
    return differ


def hosts_to_configure(topology: Topology, differ: set[str]) -> list[str]:
    """The hosts a deploy configures when only `differ` differ from what the lab was deployed with; []
    for all of them. Every etcd member with any one: the etcd play decides across the members (one
    member brought back at a time, a lost member removed and added back through a healthy one)."""
    if not differ:
        return []  # something is wrong that no host names (the entry point, the leader): all of it
    members = {h.name for h in topology.by_role("etcd")}
    hosts = differ | members if differ & members else differ
    return [h.name for h in topology.hosts if h.name in hosts]


__all__ = ["INPUTS_KEY", "hosts_to_configure", "inputs_digest", "routes_differ", "stale_daemons", "stale_files"]
