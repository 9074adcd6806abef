"""A lab on the docker provider, for real: every host but the client a container on nineslab's own
engine (its own file system and cgroups), wired into the same bridges and router as a netns host; the
same roles serve the same API. The host faults only containers have: a power-off kills the whole
container and recovery starts and re-wires it; a pause freezes the whole host; a full disk is one host's;
memory pressure OOM-kills the host's daemons until recovered. Destroy leaves no container, namespace or
engine behind. (What both providers share is tested on both: see `both_providers` in conftest.py.)"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nineslab.lab import Lab
from nineslab.paths import host_dir
from nineslab.providers.docker import engine as docker_engine
from nineslab.providers.docker import memory
from nineslab.services import etcd
from tests.integration.conftest import (
    SHARED_NAMES,
    STATE_DIR,
    alive,
    client_get,
    eventually,
    lab_pids,
    leftovers,
    nineslab,
    nineslab_json,
    settles,
    shared_lab,
)

SHARED_TOPOLOGY, SHARED_PROVIDER = "1az", "docker"
DESTROYS_SHARED_LAB = True  # its last test: the conftest runs this module last of the lab's users
LAB = SHARED_NAMES[SHARED_TOPOLOGY]
URL = "http://198.18.1.11/api/"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with shared_lab(SHARED_TOPOLOGY, SHARED_PROVIDER, tmp_path_factory.mktemp("reports")) as (_, deployed):
        yield deployed


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


def _init(host: str) -> int:
    return int((STATE_DIR / LAB / "hosts" / host / "run" / "init.pid").read_text())


def _served_by(gateway: str) -> Any:
    return lambda r: r["status"] == 200 and r["headers"].get("x-nines-gateway") == gateway


def test_a_paused_host_is_frozen_whole_and_thawed_as_it_was(lab: dict[str, Any]) -> None:
    before = lab_pids(LAB)["gw-a1/traefik"]
    state = memory.cgroup_dir(_init("gw-a1"), "freezer") / "freezer.state"
    try:
        nineslab("inject", "gateway-pause", "--lab", LAB)
        assert state.read_text().strip() == "FROZEN", "the whole host, supervisor and all, is frozen"
        assert settles(LAB, URL, _served_by("gw-a2"), 20) is not None, "the LB ejects the frozen gateway"
        nineslab("recover", "gateway-pause", "--lab", LAB)
        assert state.read_text().strip() == "THAWED"
        assert lab_pids(LAB)["gw-a1/traefik"] == before, "a frozen host continues, nothing restarted"
    finally:
        nineslab("heal", "--lab", LAB)


def test_a_full_disk_is_the_etcd_leaders_own_and_its_first_write_ends_it(lab: dict[str, Any]) -> None:
    the_lab = Lab(LAB)
    old = the_lab.etcd.leader()
    assert old
    members = ("etcd-a1", "etcd-a2", "etcd-a3")
    free = {h: shutil.disk_usage(STATE_DIR / LAB / "hosts" / h / "data").free for h in members}
    try:
        nineslab("inject", "etcd-leader-disk-full", "--lab", LAB)
        full = {h: shutil.disk_usage(STATE_DIR / LAB / "hosts" / h / "data").free for h in free}
        assert full[old] < 64 << 10, "the leader's disk is full"
        assert all(full[h] > free[h] - (16 << 20) for h in free if h != old), "only the leader's"
        # A write that needs new blocks in bbolt's file: a small one can commit into pages bbolt freed
        # earlier (after 300 puts of 2 KB, three 1-byte puts on the full disk committed and the leader
        # lived; a 100 KB put ended it). The write that meets the full disk may fail on its way.
        with contextlib.suppress(Exception):
            the_lab.etcd.call("/v3/kv/put", {"key": etcd.b64("nineslab/probe"), "value": etcd.b64("x" * (256 << 10))})
        new = eventually(lambda: (lambda now: now if now and now != old else None)(the_lab.etcd.leader()), 20, 0.2)
        assert new and new != old, "the old leader died on its full disk; another was elected"
        assert client_get(LAB, URL)["status"] == 200, "the data plane does not notice"
        nineslab("recover", "etcd-leader-disk-full", "--lab", LAB)
        assert shutil.disk_usage(STATE_DIR / LAB / "hosts" / old / "data").free > free[old] - (16 << 20)
        healthy = lambda: nineslab_json("status", "--lab", LAB, check=False)["etcd"]["healthy_members"]  # noqa: E731
        assert eventually(lambda: len(healthy()) == 3, 30, 1), "it rejoins"
    finally:
        nineslab("heal", "--lab", LAB)


def test_memory_pressure_oom_kills_the_gateway_again_and_again_until_recovered(lab: dict[str, Any]) -> None:
    group = memory.cgroup_dir(_init("gw-a1"))
    squeezer = host_dir(LAB, "gw-a1") / memory.HOG_PIDFILE
    supervisor = next(h["supervisor"] for h in nineslab_json("status", "--lab", LAB)["hosts"] if h["name"] == "gw-a1")
    try:
        nineslab("inject", "gateway-memory-pressure", "--lab", LAB)
        pid = memory.hog_pid(squeezer)
        assert pid is not None and memory.cgroup_dir(pid) != group, "the squeezer runs outside the host's cgroup"
        assert int((group / "memory.limit_in_bytes").read_text()) < memory.HOST_MEMORY
        kills = memory.oom_kills(group)
        assert settles(LAB, URL, _served_by("gw-a2"), 20) is not None, "the LB leaves the starved gateway"
        seen = _memory_timeline(group, kills + 2, 30.0)
        assert seen[-1][1] >= kills + 2, f"each restart is killed again — what the host did: {_summary(seen)}"
        assert alive(supervisor), "the supervision tree is never killed: it starts the gateway again"
        nineslab("recover", "gateway-memory-pressure", "--lab", LAB)
        assert not alive(pid), "recovery ends the squeezer"
        assert int((group / "memory.limit_in_bytes").read_text()) == memory.HOST_MEMORY
        assert settles(LAB, "http://198.18.1.21/api/", lambda r: r["status"] == 200, 20) is not None
        after = memory.oom_kills(group)
        time.sleep(2)
        assert memory.oom_kills(group) == after, "no more kills once the memory is back"
    finally:
        nineslab("heal", "--lab", LAB)


def _memory_timeline(group: Path, kills: int, within_s: float) -> list[tuple[float, int, float, int | None]]:
    """(seconds, OOM kills so far, memory in use in MiB, the gateway's PID if it runs) every 0.2 s until
    `kills` or `within_s`: should the kills stop, the data says whether Traefik stayed up starved (the
    kernel reclaiming its file pages instead of killing it), was never started again, or kept dying."""
    out: list[tuple[float, int, float, int | None]] = []
    t0 = time.monotonic()
    while True:
        usage = int((group / "memory.usage_in_bytes").read_text()) / (1 << 20)
        out.append((round(time.monotonic() - t0, 1), memory.oom_kills(group), round(usage, 1), _gateway_pid()))
        if out[-1][1] >= kills or out[-1][0] > within_s:
            return out
        time.sleep(0.2)


def _gateway_pid() -> int | None:
    pid = lab_pids(LAB).get("gw-a1/traefik")
    return pid if pid and alive(pid) else None


def _summary(seen: list[tuple[float, int, float, int | None]]) -> str:
    """Each change of kill count or of the gateway's PID, and the last sample."""
    changes = [x for i, x in enumerate(seen) if i == 0 or x[1] != seen[i - 1][1] or x[3] != seen[i - 1][3]]
    return "; ".join(f"{t:g}s kills={k} mem={m}MiB traefik={p}" for t, k, m, p in [*changes, seen[-1]])


def test_destroy_leaves_no_container_namespace_or_engine(lab: dict[str, Any]) -> None:
    daemons = [pid for name, pid in lab_pids(LAB).items() if not name.startswith("client/")]
    nineslab("destroy", "--lab", LAB)
    assert not any(alive(p) for p in daemons) and leftovers(LAB) == []
    engine = docker_engine.Engine(STATE_DIR / "docker-engine")
    if not docker_engine.docker_labs(STATE_DIR):
        assert engine.pid() is None and engine.shims() == []
