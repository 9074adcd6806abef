"""Hypothesis strategies that break a good input file the ways people and tools do: a key deleted, a
value of the wrong type or out of range, an unknown key, a section replaced by a scalar, the text
truncated, garbage or bytes that are not UTF-8 spliced in, an empty file."""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from hypothesis import strategies as st

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", " ", "-1", "0", "1e999", "nan", "198.18.0.0/15", "10.0.0.1", "a\nb", "ü", "${x}"]),
    st.lists(st.integers(min_value=-5, max_value=5), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(min_value=-5, max_value=5), max_size=2),
)


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return list(node)
    if isinstance(node, list):
        return list(range(len(node)))
    return []


@st.composite
def mutated_document(draw: st.DrawFn, base: Any, max_edits: int = 3) -> Any:
    """`base` (parsed YAML/JSON) with 1..max_edits edits at random places in its tree."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=max_edits))):
        parent, key = None, None
        node = doc
        while _children(node) and draw(st.integers(min_value=0, max_value=3)) > 0:
            parent, key = node, draw(st.sampled_from(_children(node)))
            node = node[key]
        action = draw(st.sampled_from(["replace", "delete", "add", "wrap", "empty"]))
        if parent is None:
            if action in ("replace", "empty"):
                doc = draw(JUNK) if action == "replace" else {}
            continue
        if action == "replace":
            parent[key] = draw(JUNK)
        elif action == "delete":
            del parent[key]
        elif action == "add" and isinstance(node, dict):
            node[draw(st.text(min_size=1, max_size=8))] = draw(JUNK)
        elif action == "wrap":
            parent[key] = [node]
        elif action == "empty":
            parent[key] = type(node)() if isinstance(node, (dict, list, str)) else None
    return doc


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> bytes:
    """The file's bytes broken at the text level."""
    raw = text.encode()
    action = draw(st.sampled_from(["truncate", "splice", "bytes", "empty", "indent"]))
    if action == "truncate":
        return raw[: draw(st.integers(min_value=0, max_value=len(raw)))]
    if action == "splice":
        at = draw(st.integers(min_value=0, max_value=len(raw)))
        junk = draw(
            st.sampled_from(["{", "}", "[", ":", "- ", "\t", "\n  x", '"', "'", "&a *a", "!!python/object:os.system"])
        )
        return raw[:at] + junk.encode() + raw[at:]
    if action == "bytes":
        at = draw(st.integers(min_value=0, max_value=len(raw)))
        return raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    if action == "indent":
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(min_value=0, max_value=max(0, len(lines) - 1)))
        lines[i : i + 1] = ["   " + lines[i]] if lines else []
        return "".join(lines).encode()
    return b""


def broken_file(base: Any, text: str, fmt: str) -> st.SearchStrategy[bytes]:
    """A broken version of a file: its parsed document mutated and written again, or its text broken."""
    dump = (lambda d: json.dumps(d, indent=1)) if fmt == "json" else (lambda d: yaml.safe_dump(d, sort_keys=False))
    return st.one_of(mutated_document(base).map(lambda d: dump(d).encode()), mutated_text(text))
