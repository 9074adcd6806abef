"""A lab on the docker provider, for real: every host but the client a container on nineslab's own
engine (its own file system and cgroups), wired into the same bridges and router as a netns host; the
same roles serve the same API; a power-off kills the whole container and recovery starts and re-wires
it; destroy leaves no container, namespace or engine behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nineslab.providers.docker import engine as docker_engine
from tests.integration.conftest import (
    STATE_DIR,
    alive,
    client_get,
    lab_pids,
    leftovers,
    nineslab,
    nineslab_json,
    settles,
)

pytestmark = pytest.mark.skipif(not Path(docker_engine.DOCKERD).exists(), reason="Debian docker.io not installed")

LAB = "itdock"
URL = "http://198.18.1.11/api/"


@pytest.fixture(scope="module")
def lab() -> Iterator[dict[str, Any]]:
    nineslab("destroy", "--lab", LAB, check=False)
    try:
        yield nineslab_json("deploy", "--topology", "1az", "--provider", "docker", "--lab", LAB)
    finally:
        nineslab("destroy", "--lab", LAB, check=False)


def _in_container(pid: int) -> bool:
    return any("nineslab-engine" in line for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines())


def test_every_daemon_runs_in_its_hosts_container_with_its_own_file_system(lab: dict[str, Any]) -> None:
    assert lab["status"]["healthy"], lab["status"]
    pids = lab_pids(LAB)
    daemons = {name: pid for name, pid in pids.items() if not name.startswith("client/")}
    assert daemons and all(_in_container(pid) for pid in daemons.values()), daemons
    for name, pid in daemons.items():
        host = name.split("/")[0]
        # its own root: the container's /etc/hostname names its host, not the machine
        assert Path(f"/proc/{pid}/root/etc/hostname").read_text().strip() == host
    assert client_get(LAB, URL)["status"] == 200


def test_a_powered_off_host_is_a_killed_container_and_comes_back_wired(lab: dict[str, Any]) -> None:
    before = lab_pids(LAB)["gw-a1/traefik"]
    try:
        nineslab("inject", "gateway-host-power-off", "--lab", LAB)
        assert not alive(before), "the whole container is killed"
        assert settles(LAB, URL, lambda r: r["status"] == 200, 20) is not None, "the other gateway serves"
        nineslab("recover", "gateway-host-power-off", "--lab", LAB)
        after = lab_pids(LAB)["gw-a1/traefik"]
        assert after != before and alive(after) and _in_container(after)
        # the restarted container answers at its address, its routes loaded from etcd (404 until then)
        assert settles(LAB, "http://198.18.1.21/api/", lambda r: r["status"] == 200, 15) is not None
    finally:
        nineslab("heal", "--lab", LAB)


def test_destroy_leaves_no_container_namespace_or_engine(lab: dict[str, Any]) -> None:
    daemons = [pid for name, pid in lab_pids(LAB).items() if not name.startswith("client/")]
    nineslab("destroy", "--lab", LAB)
    assert not any(alive(p) for p in daemons) and leftovers(LAB) == []
    engine = docker_engine.Engine(STATE_DIR / "docker-engine")
    if not docker_engine.docker_labs(STATE_DIR):
        assert engine.pid() is None and engine.shims() == []
