"""`nineslab load --workers`: Locust's distributed mode on a lab with three client namespaces (the
2az-clients example). Each worker runs in its own client namespace and records its own samples; the
master-worker link stays up through a zone isolation, and the master counts every request the workers
recorded."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nineslab.lab import Lab
from nineslab.load import read_samples
from nineslab.load.samples import CLIENT_OVERLOAD, Sample, parse_line
from nineslab.paths import REPO_ROOT
from tests.integration.conftest import NINESLAB, STATE_DIR, eventually, lab_with_reports, nineslab_json

LAB = "itwrk"
TOPOLOGY = str(REPO_ROOT / "topologies" / "examples" / "2az-clients.yaml")
CLIENTS = ["client", "client-2", "client-3"]
RATE, DURATION_S = 60, 24
# One TCP connect from a namespace (bounded at 2 s): True if it was accepted.
CONNECT = r"""
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close(); print("up")
except OSError:
    print("down")
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with lab_with_reports(LAB, TOPOLOGY, tmp_path_factory.mktemp("reports")) as deployed:
        yield deployed


def _connects(netns: str, address: str, port: int) -> bool:
    res = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-c", CONNECT, address, str(port)],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return res.stdout.strip() == "up"


def _netns_of(pid: int) -> str:
    return subprocess.run(["ip", "netns", "identify", str(pid)], capture_output=True, text=True).stdout.strip()


def test_workers_in_three_client_namespaces_carry_the_load_through_a_zone_isolation(lab: dict[str, Any]) -> None:
    assert nineslab_json("status", "--lab", LAB)["healthy"]
    assert [c.name for c in Lab(LAB).load_clients()] == CLIENTS
    load = subprocess.Popen(
        [NINESLAB, "load", "--lab", LAB, "--workers", "3", "--rate", str(RATE), "--duration", str(DURATION_S)]
        + ["--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pidfile = STATE_DIR / LAB / "load.pid"
        owner = eventually(lambda: pidfile.is_file() and json.loads(pidfile.read_text()), 20)
        assert owner and len(owner["workers"]) == 3, owner
        # each worker in its own client's namespace (`ip netns exec` execs Locust: the PID is the worker's)
        assert sorted(_netns_of(pid) for pid in owner["workers"]) == [f"{LAB}-{c}" for c in CLIENTS]
        assert _netns_of(owner["pid"]) == f"{LAB}-client"  # the master, beside the first client
        time.sleep(6)
        injected = nineslab_json("inject", "zone-isolate", "--lab", LAB)
        try:
            time.sleep(2)
            # the cut is on (client-2 cannot reach east-a's gateway) and the master is still reachable
            assert not _connects(f"{LAB}-client-2", "198.18.1.21", 80)
            assert _connects(f"{LAB}-client-2", "198.19.255.10", 5557)
            assert _connects(f"{LAB}-client-3", "198.19.255.10", 5557)
            time.sleep(4)
        finally:
            recovered = nineslab_json("recover", "zone-isolate", "--lab", LAB)
        out, err = load.communicate(timeout=DURATION_S + 60)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    assert load.returncode == 0, err[-2000:]
    summary = json.loads(out)
    run = Path(summary["run"])
    assert summary["workers"] == CLIENTS and summary["master"] == "198.19.255.10:5557"
    samples = read_samples(run / "samples")
    assert len(samples) == summary["requests"]
    assert 0.8 * RATE * DURATION_S <= len(samples) <= 1.2 * RATE * DURATION_S, len(samples)
    # every worker recorded its own share (one Poisson stream of RATE/3 each), in its own files
    files = sorted(p.name for p in (run / "samples").glob("samples-*.csv"))
    assert sorted(f.rsplit("-", 1)[0] for f in files) == [f"samples-{c}" for c in CLIENTS], files
    shares = [len(read_samples_of(run, c)) / len(samples) for c in CLIENTS]
    assert all(0.2 <= s <= 0.47 for s in shares), shares
    # ...and kept sending through the isolation (answered by east-b) and after it
    cut = (injected["inject_end"], recovered["recover_start"])
    for c in CLIENTS:
        mine = read_samples_of(run, c)
        assert any(s.ok and cut[0] <= s.start < cut[1] for s in mine), c
        assert any(s.ok and s.start > recovered["recover_end"] + 1 for s in mine), c
    # the master's own count (the workers' reports, sent over the link the cut left alone) is every
    # request the workers recorded
    log = (run / "locust.log").read_text()
    aggregated = [line.split() for line in log.splitlines() if line.strip().startswith("Aggregated")]
    assert aggregated, log[-2000:]
    sent = sum(1 for s in samples if s.error != CLIENT_OVERLOAD)
    assert int(aggregated[-1][-1]) == sent, (aggregated[-1], sent)


def read_samples_of(run: Path, client: str) -> list[Sample]:
    """One client's samples (its files only: samples-<client>-<pid>.csv)."""
    out = []
    for path in (run / "samples").glob(f"samples-{client}-*.csv"):
        if path.name.removeprefix(f"samples-{client}-").removesuffix(".csv").isdigit():
            out += [s for s in map(parse_line, path.read_text().splitlines()) if s is not None]
    return out
