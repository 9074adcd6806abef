"""One time line: fault acts stamped on machines with their own clocks, corrected by each clock's
measured offset, and the report's fault windows opening and closing there. Pure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nineslab.analysis.checker import fault_windows
from nineslab.clocks import (
    Clock,
    clocks_from_json,
    clocks_to_json,
    effective_start,
    measured,
    on_client_clock,
    recovered_end,
    stamps,
)
from nineslab.runs.events import read_events


def test_acts_are_put_on_the_clients_clock_by_each_machines_offset() -> None:
    # gw-a's clock runs 2.5 s ahead of the client's, gw-b's 0.4 s behind; each acted at client time 100.0
    offsets = {"gw-a": (2.5, 0.004), "gw-b": (-0.4, 0.002)}
    out = on_client_clock([("gw-a", 102.5), ("gw-b", 99.65)], offsets)
    assert out["acted"] == {"gw-a": 100.0, "gw-b": 100.05}
    assert out["acted_start"] == pytest.approx(100.0) and out["acted_end"] == pytest.approx(100.05)
    assert out["acted_error_s"] == 0.004  # the widest bound of the offsets used
    assert "acted_unmeasured" not in out


def test_a_machine_whose_clock_was_not_measured_is_left_out_and_named() -> None:
    out = on_client_clock([("gw-a", 500.0), ("dns-a", 102.0)], {"dns-a": (2.0, 0.001)}, key="recovered")
    assert out["recovered_start"] == pytest.approx(100.0) and out["recovered_unmeasured"] == ["gw-a"]
    assert on_client_clock([], {"gw-a": (1.0, 0.0)}) == {}  # one clock (namespaces): nothing stamped
    assert stamps({**out, "fault": "x", "recover_end": 3.0}, "recovered") == out


def test_the_report_opens_and_closes_a_window_where_the_machines_acted(tmp_path: Path) -> None:
    events = [
        # the operator began applying at 100.0 (its clock); the machine, 3 s ahead, acted at 103.2 = 100.2
        {"fault": "gateway-kill", "phase": "inject", "start": 99.9, "apply_start": 100.0, "end": 100.3}
        | on_client_clock([("gw-a", 103.2)], {"gw-a": (3.0, 0.005)}),
        {"fault": "gateway-kill", "phase": "recover", "start": 110.0, "end": 110.4}
        | on_client_clock([("gw-a", 113.1)], {"gw-a": (3.0, 0.005)}, key="recovered"),
        # a fault on one clock (namespaces): the operator's own stamps
        {"fault": "zone-isolate", "phase": "inject", "start": 120.0, "apply_start": 120.1, "end": 120.2},
        {"fault": "zone-isolate", "phase": "recover", "start": 130.0, "end": 130.2},
    ]
    (tmp_path / "faults.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    kill, isolate = fault_windows(read_events(tmp_path))
    assert kill["effective_start"] == pytest.approx(100.2) and kill["recover_end"] == pytest.approx(110.1)
    assert kill["clock"]["acted"] == {"gw-a": pytest.approx(100.2)} and kill["clock"]["acted_error_s"] == 0.005
    assert isolate["effective_start"] == 120.1 and isolate["recover_end"] == 130.2 and isolate["clock"] is None
    assert effective_start({"start": 1.0}) == 1.0 and recovered_end({"end": 2.0}) == 2.0


def test_clock_offsets_are_kept_in_seconds_in_one_format_and_older_runs_still_read() -> None:
    table = {"b": Clock(0.0123456, 0.0004), "a": None}
    kept = clocks_to_json(table)
    assert kept == {"a": None, "b": {"offset_s": 0.012346, "error_s": 0.0004}}
    assert clocks_from_json(json.loads(json.dumps(kept))) == {"a": None, "b": Clock(0.012346, 0.0004)}
    # a run made before: milliseconds
    old = {"a": {"offset_ms": None, "error_ms": None}, "b": {"offset_ms": 12.346, "error_ms": 0.4}}
    assert clocks_from_json(old) == {"a": None, "b": Clock(0.012346, 0.0004)}
    assert measured(clocks_from_json(old)) == {"b": Clock(0.012346, 0.0004)}
    # anything else (a lab file of lists, garbage) is left out: those stamps stay uncorrected
    assert clocks_from_json({"c": [1.0, 0.1], "d": {"offset_s": "x", "error_s": 1}}) == {}
    assert clocks_from_json(["not", "a", "table"]) == {}
