"""What a status says is down, and a run refusing an unhealthy lab (before anything is made)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nineslab.chaos.current_run import start_run
from nineslab.errors import LabError
from nineslab.health import require_healthy, unhealthy_hosts
from nineslab.topology import load_topology


def status(**over: Any) -> dict[str, Any]:
    st: dict[str, Any] = {
        "healthy": True,
        "hosts": [{"name": "gw-a", "healthy": True}, {"name": "lb-a", "healthy": True}],
        "entrypoint": {"healthy": True},
        "etcd": {"leader": "etcd-a1"},
    }
    st.update(over)
    return st


def test_what_is_down_in_words() -> None:
    assert unhealthy_hosts(status()) == ""
    hosts = [{"name": "gw-a", "healthy": False}, {"name": "lb-a", "healthy": False}]
    assert unhealthy_hosts(status(healthy=False, hosts=hosts)) == "gw-a, lb-a"
    assert unhealthy_hosts(status(healthy=False, entrypoint={"healthy": False})) == "entrypoint"
    assert unhealthy_hosts(status(healthy=False, etcd={"leader": None})) == "etcd leader"


class UnhealthyLab:
    name = "unit"

    def status(self, _topology: Any) -> dict[str, Any]:
        return status(healthy=False, hosts=[{"name": "etcd-a1", "healthy": False}])


def test_a_run_refuses_an_unhealthy_lab_and_makes_no_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NINESLAB_REPORTS_DIR", str(tmp_path))
    with pytest.raises(LabError) as err:
        start_run(UnhealthyLab(), load_topology("2az"), "suite-2az")
    message = str(err.value)
    assert "lab 'unit' is not healthy (down: etcd-a1)" in message and "nineslab heal --lab unit" in message
    assert list(tmp_path.iterdir()) == [], "no run directory, `latest` unmoved"
    require_healthy("unit", status())  # a healthy lab passes


def test_an_etcd_token_is_remembered_per_cluster_not_per_lab_name(tmp_path: Path) -> None:
    """A lab deployed again under its name is a new cluster behind the same URLs: a token of the old one
    would make etcd wait for a raft index the new cluster may never reach."""
    from nineslab.health.checks import _token_key

    ca = tmp_path / "ca.crt"
    check = {"url": "https://198.18.1.41:2379/v3/kv/range", "auth": {}, "tls": {"ca": str(ca)}}
    ca.write_text("first CA")
    first = _token_key("itfix", check)
    assert _token_key("itfix", {**check, "url": "https://198.18.1.41:2379/v3/kv/put"}) == first
    ca.write_text("the CA of the lab deployed again")
    assert _token_key("itfix", check) != first
    assert _token_key("itfix", {"url": check["url"], "auth": {}}) != first, "no TLS: no CA in the key"
