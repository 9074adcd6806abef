"""nineslab's own Docker engine and the hosts' base image, for real: Debian's dockerd started in its own
namespace with everything under the state directory, the image built offline from the machine's Debian
mirror and cached, and nothing of either left on the machine after a stop."""

from __future__ import annotations

import io
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nineslab.providers.docker import engine as docker_engine
from nineslab.providers.docker import image
from tests.integration.conftest import STATE_DIR, alive


def _routing() -> tuple[str, str]:
    """The machine's own firewall and routes: the engine must leave both alone."""
    nft = subprocess.run(["nft", "list", "ruleset"], capture_output=True, text=True).stdout
    routes = subprocess.run(["ip", "route"], capture_output=True, text=True).stdout
    return nft, routes


@pytest.fixture(scope="module")
def engine() -> Iterator[docker_engine.Engine]:
    eng = docker_engine.Engine(STATE_DIR / "docker-engine")
    try:
        yield eng
    finally:
        eng.stop()  # its data root (the image) stays for the other docker tests; conftest removes it last


def test_the_engine_starts_in_its_own_namespace_and_leaves_the_machines_routing_alone(
    engine: docker_engine.Engine,
) -> None:
    before = _routing()
    assert engine.start() is True and engine.answers()
    pid = engine.pid()
    assert pid and Path(f"/proc/{pid}/ns/net").resolve() != Path("/proc/self/ns/net").resolve()
    assert Path(f"/run/netns/{docker_engine.ENGINE_NETNS}").exists()
    assert _routing() == before
    assert engine.start() is False and engine.pid() == pid  # a second start finds it running


def test_the_image_is_built_once_from_the_recipe_and_then_cached(engine: docker_engine.Engine) -> None:
    client = engine.client()
    try:
        recipe = image.default_recipe()
        first = image.build(client, recipe, engine.root / "build", progress=lambda _m: None)
        assert first["tag"] == recipe.tag
        start = time.monotonic()
        assert image.build(client, recipe, engine.root / "build")["id"] == first["id"]
        assert time.monotonic() - start < 5
        out = client.containers.run(recipe.tag, ["sh", "-c", "haproxy -v | head -1; python3 -V"], remove=True)
        host_haproxy = subprocess.run(["haproxy", "-v"], capture_output=True, text=True).stdout.splitlines()[0]
        assert out.decode().splitlines()[0] == host_haproxy, "the same Debian build as the netns provider's"
        assert [row["tag"] for row in image.listing(client)] == [recipe.tag]
    finally:
        client.close()


def test_prune_removes_only_older_recipes_that_no_container_uses(engine: docker_engine.Engine) -> None:
    client = engine.client()
    stale = []
    try:
        current = image.default_recipe().tag
        for n in (1, 2):  # two tiny images that look like older recipes' (one file each)
            tar = io.BytesIO()
            with tarfile.open(fileobj=tar, mode="w") as t:
                info = tarfile.TarInfo(f"old{n}")
                t.addfile(info, io.BytesIO(b""))
            out = client.api.import_image_from_data(
                tar.getvalue(), repository=image.REPOSITORY, tag=f"old{n}", changes=[f"LABEL {image.LABEL}=old{n}"]
            )
            stale.append(f"{image.REPOSITORY}:old{n}")
            assert "status" in out
        user = client.containers.create(stale[1], ["true"], name="itprune-user", labels={"nineslab.lab": "itprune"})
        try:
            removed, busy = image.prune(client, current)
            assert removed == [stale[0]] and busy == [stale[1]], "a stale image a container uses is kept"
            assert current in {t for i in client.images.list() for t in i.tags}, "the current recipe stays"
        finally:
            user.remove(force=True)
        assert image.prune(client, current) == ([stale[1]], [])
    finally:
        client.close()


def test_a_stopped_engine_leaves_no_process_socket_or_namespace(engine: docker_engine.Engine) -> None:
    engine.start()
    pid = engine.pid()
    stopped = engine.stop()
    assert any(s.startswith("dockerd") for s in stopped)
    assert pid and not alive(pid) and engine.shims() == []
    assert not engine.socket.exists() and not engine.pidfile.exists()
    assert not Path(f"/run/netns/{docker_engine.ENGINE_NETNS}").exists()
    assert engine.stop() == []  # twice: nothing to do
