"""A route change, read from a routes file and checked before anything is written (pure).

A routes file sets (and may delete) keys of Traefik's dynamic configuration, relative to each
gateway's own root key — the same change for every gateway:

    set:
      http/routers/api/rule: "PathPrefix(`/api`)"
      http/middlewares/retry/retry/attempts: 4
    delete:
      - http/middlewares/retry/retry/initialInterval
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nineslab.errors import NinesError
from nineslab.services.etcd import b64
from nineslab.services.gateway import ROUTES_MARKER
from nineslab.textfile import read_user_file

# A key relative to a gateway's root: Traefik's KV layout (http/, tcp/, udp/, tls/), plain path segments.
KEY_RE = re.compile(r"(http|tcp|udp|tls)(/[A-Za-z0-9_.\-]+)+")


@dataclass(frozen=True)
class RouteChange:
    source: str
    puts: dict[str, str] = field(default_factory=dict)
    deletes: tuple[str, ...] = ()
    # Puts for one gateway's root only: a deploy's routes differ per gateway (its name, its apps).
    by_root: dict[str, dict[str, str]] = field(default_factory=dict)
    deletes_by_root: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def ops(self, roots: list[str], token: str) -> list[dict[str, Any]]:
        """etcd txn ops (JSON-gateway form) applying the change under each root key, with the marker."""
        out: list[dict[str, Any]] = []
        for root in roots:
            for key, value in {**self.puts, **self.by_root.get(root, {}), ROUTES_MARKER: token}.items():
                out.append({"requestPut": {"key": b64(f"{root}/{key}"), "value": b64(value)}})
            gone = (*self.deletes, *self.deletes_by_root.get(root, ()))
            out += [{"requestDeleteRange": {"key": b64(f"{root}/{key}")}} for key in gone]
        return out


def _fail(path: Path, where: str, what: str, fix: str) -> NinesError:
    return NinesError(f"{path}: {where}: {what} — {fix}")


def _key(path: Path, where: str, key: Any) -> str:
    if not isinstance(key, str) or not KEY_RE.fullmatch(key):
        raise _fail(path, where, f"{key!r} is not a Traefik key", "write a path such as http/routers/api/rule")
    if key == ROUTES_MARKER:
        raise _fail(path, where, f"{key} is written by nineslab itself", "leave it out")
    return key


def parse_change(path: Path, data: Any) -> RouteChange:
    """The change a routes file's parsed YAML describes, or a one-line error naming file and field."""
    if not isinstance(data, dict):
        raise _fail(path, "top level", "not a mapping", "write `set:` (key: value) and/or `delete:` (keys)")
    unknown = sorted(set(data) - {"set", "delete"})
    if unknown:
        raise _fail(path, unknown[0], "unknown field", "use only `set` and `delete`")
    puts_raw = data.get("set") or {}
    deletes_raw = data.get("delete") or []
    if not isinstance(puts_raw, dict):
        raise _fail(path, "set", "not a mapping", "write key: value lines under `set:`")
    if not isinstance(deletes_raw, list):
        raise _fail(path, "delete", "not a list", "write `- key` lines under `delete:`")
    puts = {}
    for key, value in puts_raw.items():
        k = _key(path, f"set.{key}", key)
        if isinstance(value, bool) or not isinstance(value, str | int | float) or str(value) == "":
            raise _fail(path, f"set.{key}", f"{value!r} is not a value", "give a string or a number")
        puts[k] = str(value)
    deletes = tuple(_key(path, f"delete[{i}]", key) for i, key in enumerate(deletes_raw))
    both = sorted(set(puts) & set(deletes))
    if both:
        raise _fail(path, f"delete.{both[0]}", "also set", "a key is either set or deleted")
    if not puts and not deletes:
        raise _fail(path, "top level", "changes nothing", "give at least one key under `set:` or `delete:`")
    return RouteChange(source=str(path), puts=puts, deletes=deletes)


def load_change(path: Path) -> RouteChange:
    text = read_user_file(path, "routes file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        raise NinesError(f"{path}: {where}: not valid YAML — fix the syntax") from None
    return parse_change(path, data)
