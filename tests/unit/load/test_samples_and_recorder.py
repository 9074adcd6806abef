"""Sample files: parsing (torn lines survive a kill -9) and the recorder's error kinds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from nineslab.load.samples import Tail, parse_line, read_samples
from nineslab.paths import REPO_ROOT


def test_parse_line_and_torn_lines(tmp_path: Path) -> None:
    assert parse_line("start,latency_ms,status,error,lb,gateway,app,zone\n") is None
    s = parse_line("1700000000.5,12.5,200,,lb-a,gw-a,app-a,east-a\n")
    assert s is not None and s.ok and s.lb == "lb-a" and s.latency_ms == 12.5
    bad = parse_line("1700000001.0,2000.0,0,deadline,,,,\n")
    assert bad is not None and not bad.ok
    assert parse_line("1700000002.0,12.5,2") is None  # torn by a kill mid-write
    d = tmp_path / "samples"
    d.mkdir()
    (d / "samples-x-1.csv").write_text(
        "start,latency_ms,status,error,lb,gateway,app,zone\n2.0,1,200,,a,b,c,d\n1.0,1,503,http_5xx,a,b,c,d\n3.0,1,20"
    )
    samples = read_samples(d)
    assert [s.start for s in samples] == [1.0, 2.0] and [s.ok for s in samples] == [False, True]


def test_tail_reads_only_whole_new_lines(tmp_path: Path) -> None:
    f = tmp_path / "samples-x-1.csv"
    f.write_text("start,latency_ms,status,error,lb,gateway,app,zone\n1.0,1,200,,a,b,c,d\n2.0,1,2")
    tail = Tail(tmp_path)
    assert len(tail.new_samples()) == 1
    with f.open("a") as out:
        out.write("00,,a,b,c,d\n")
    again = tail.new_samples()
    assert [s.status for s in again] == [200] and again[0].start == 2.0
    assert tail.new_samples() == []


def test_recorder_error_kinds() -> None:
    # In a subprocess: importing locust monkey-patches the interpreter (gevent), not for this one.
    code = """
import recorder
assert recorder.error_kind(None, 200) == ""
assert recorder.error_kind(None, 503) == "http_5xx"
assert recorder.error_kind(OSError("Failed to resolve 'api.nines.lab'"), 0) == "dns"
assert recorder.error_kind(ConnectionRefusedError("[Errno 111] Connection refused"), 0) == "refused"
assert recorder.error_kind(OSError("Connection reset by peer"), 0) == "reset"
print("ok")
"""
    loadtests = REPO_ROOT / "loadtests"
    res = subprocess.run([sys.executable, "-c", code], cwd=loadtests, capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == "ok", res.stderr[-1000:]
