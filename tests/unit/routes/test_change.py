"""A routes file is checked completely before anything is written: every malformed file gets one line
naming the file and the field; a good one becomes etcd ops under each gateway's root, marker included."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from nineslab.errors import NinesError
from nineslab.routes import load_change, parse_change
from nineslab.services.gateway import ROUTES_MARKER as MARKER


def _decode(op: dict[str, dict[str, str]]) -> tuple[str, str, str | None]:
    kind, body = next(iter(op.items()))
    value = base64.b64decode(body["value"]).decode() if "value" in body else None
    return kind, base64.b64decode(body["key"]).decode(), value


def test_a_change_is_applied_under_every_root_with_the_push_marker() -> None:
    change = parse_change(Path("r.yaml"), {"set": {"http/routers/api/rule": "PathPrefix(`/v2`)", "http/x/y": 4}})
    ops = [_decode(op) for op in change.ops(["traefik-gw-a", "traefik-gw-b"], token="t1")]
    assert ("requestPut", "traefik-gw-b/http/x/y", "4") in ops
    assert ("requestPut", f"traefik-gw-a/{MARKER}", "t1") in ops
    assert len(ops) == 6


def test_deletes_become_delete_ranges_of_single_keys() -> None:
    change = parse_change(Path("r.yaml"), {"delete": ["http/middlewares/retry/retry/initialInterval"]})
    ops = [_decode(op) for op in change.ops(["traefik-gw-a"], token="t")]
    assert ("requestDeleteRange", "traefik-gw-a/http/middlewares/retry/retry/initialInterval", None) in ops


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([1], "top level"),
        ({"set": {}}, "changes nothing"),
        ({"routes": {}}, "routes: unknown field"),
        ({"set": [1]}, "set: not a mapping"),
        ({"delete": "http/a"}, "delete: not a list"),
        ({"set": {"../etc/passwd": "x"}}, "set.../etc/passwd"),
        ({"set": {"http/a b": "x"}}, "set.http/a b"),
        ({"set": {"http/routers/api/rule": True}}, "set.http/routers/api/rule"),
        ({"set": {"http/routers/api/rule": ""}}, "set.http/routers/api/rule"),
        ({"set": {MARKER: "x"}}, "written by nineslab"),
        ({"set": {"http/a/b": "1"}, "delete": ["http/a/b"]}, "delete.http/a/b"),
    ],
)
def test_a_malformed_change_is_one_line_naming_the_file_and_field(data: object, field: str) -> None:
    with pytest.raises(NinesError) as err:
        parse_change(Path("routes/bad.yaml"), data)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("routes/bad.yaml: ") and field in msg and " — " in msg


def test_an_unreadable_or_broken_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(NinesError, match="cannot read the routes file"):
        load_change(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("set: {a: [\n")
    with pytest.raises(NinesError, match=r"broken.yaml: line \d+: not valid YAML"):
        load_change(broken)
