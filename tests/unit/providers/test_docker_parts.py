"""The docker provider's pure parts: the engine's command line and ownership rules, the image's recipe."""

from __future__ import annotations

import json
from pathlib import Path

from nineslab.providers.docker.containers import run_spec
from nineslab.providers.docker.engine import Engine, docker_labs
from nineslab.providers.docker.image import PACKAGES, Recipe, machine_mirror
from nineslab.providers.docker.memory import HEADROOM, HOST_MEMORY, lowered_limit

UNIX_PATH_MAX = 107  # usable bytes of a unix socket path


def test_the_engine_keeps_out_of_the_machines_routing_and_owns_its_files(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "docker-engine")
    cmd = engine.command()
    for flag in ("--iptables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none"):
        assert flag in cmd
    owned = [a.split("=", 1)[1] for a in cmd if a.startswith(("--data-root=", "--exec-root=", "--pidfile="))]
    assert len(owned) == 3 and all(p.startswith(str(engine.root)) for p in owned)
    assert f"--host=unix://{engine.root}/docker.sock" in cmd


def test_containerds_sockets_under_the_exec_root_fit_a_unix_path() -> None:
    # containerd puts its longest socket at <exec-root>/containerd/containerd.sock.ttrpc
    engine = Engine(Path("/var/lib/nineslab/docker-engine"))
    assert len(f"{engine.exec_root}/containerd/containerd.sock.ttrpc") <= UNIX_PATH_MAX


def test_a_recipe_names_its_image_by_what_goes_into_it() -> None:
    base = Recipe()
    assert base.tag == Recipe().tag and base.tag.startswith("nineslab/host:")
    assert Recipe(packages=(*PACKAGES, "strace")).tag != base.tag
    assert Recipe(mirror="http://mirror.example/debian").tag != base.tag
    assert base.debootstrap(Path("/tmp/rootfs"))[-3:] == ["bookworm", "/tmp/rootfs", base.mirror]
    # the machine's versions are the image's: an upgrade on the machine is a new recipe
    pinned = Recipe(pins=(("haproxy", "2.6.12-1+deb12u4"),))
    assert "haproxy=2.6.12-1+deb12u4" in pinned.install() and "python3" in pinned.install()
    assert Recipe(pins=(("haproxy", "2.6.12-1+deb12u5"),)).tag != pinned.tag


def test_the_image_comes_from_the_machines_own_mirror(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text(
        "Types: deb\nURIs: http://deb.example/debian\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://deb.example/debian-security\nSuites: bookworm-security\n"
    )
    assert machine_mirror(sources) == "http://deb.example/debian"
    assert machine_mirror(tmp_path / "missing") is None


def test_only_labs_made_with_the_docker_provider_keep_the_engine(tmp_path: Path) -> None:
    for lab, provider in (("a", "docker"), ("b", "netns"), ("c", "docker")):
        (tmp_path / lab).mkdir()
        (tmp_path / lab / "lab.json").write_text(json.dumps({"provider": provider}))
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "lab.json").write_text("{broken")
    assert docker_labs(tmp_path) == ["a", "c"]
    assert docker_labs(tmp_path / "none") == []


def test_memory_pressure_lowers_the_limit_only_as_far_as_cgroup_v1_accepts() -> None:
    for usage in (0, 1, 4095, 29_741_056, HOST_MEMORY - HEADROOM):
        limit = lowered_limit(usage)
        assert limit >= usage + HEADROOM and limit % 4096 == 0 and limit - usage < HEADROOM + 4096
    assert lowered_limit(HOST_MEMORY // 2) < HOST_MEMORY


def test_a_host_container_has_its_own_memory_and_no_swap_and_no_docker_network(tmp_path: Path) -> None:
    spec = run_spec("lab", "gw-a", "nineslab/host:x", tmp_path / "gw-a", [Path("/repo")])
    assert spec["mem_limit"] == spec["memswap_limit"] == HOST_MEMORY
    assert spec["network_mode"] == "none" and spec["labels"] == {"nineslab.lab": "lab", "nineslab.host": "gw-a"}
    assert spec["volumes"]["/repo"]["mode"] == "ro" and spec["volumes"][str(tmp_path / "gw-a")]["mode"] == "rw"
