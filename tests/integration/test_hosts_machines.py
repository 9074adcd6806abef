"""Existing machines over real SSH: `nineslab machines` proves every host of an inventory answers (with
python3 and root) before anything is changed, and names the host that does not; the firewall cuts hold
both ways and keep our connection; 2az deployed onto the machines runs a node kill, a zone isolation and
the primary nameserver down under load with its report, and destroy leaves the machines as they were.
The machines are containers running Debian's sshd; nineslab runs in the rig's client namespace, as on an
operator's machine that reaches them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nineslab.analysis.checker import fault_windows
from nineslab.load import read_samples
from nineslab.paths import lab_dir
from nineslab.rigs.machines import Machines, ssh_machines
from nineslab.runs.events import read_events
from nineslab.topology import load_topology
from tests.integration.conftest import NINESLAB, leftovers

RIG = "itmach"  # the machines
LAB = "ithost"  # the hosts lab that would run on them
TOPOLOGY = "2az"


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Machines]:
    with ssh_machines(RIG, load_topology(TOPOLOGY), tmp_path_factory.mktemp("machines")) as found:
        try:
            yield found
        finally:
            # from where the machines are reached (a hosts lab's destroy cleans them over SSH)
            res = in_operator(found, "destroy", "--lab", LAB)
            assert res.returncode == 0, res.stderr
    assert not leftovers(RIG) and not leftovers(LAB)


def check(m: Machines, inventory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", m.client_netns, NINESLAB, "machines", "-t", TOPOLOGY, "-i", str(inventory),
         "--lab", LAB, *extra],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def edited(m: Machines, tmp: Path, change: dict[str, Any]) -> Path:
    raw = yaml.safe_load(m.inventory.read_text())
    for host, fields in change.items():
        raw["hosts"][host].update(fields)
    out = tmp / "inventory.yaml"
    out.write_text(yaml.safe_dump(raw))
    return out


def test_every_machine_answers_over_ssh_and_nothing_is_changed(machines: Machines) -> None:
    before = machines.run("gw-a", "ls -A / /var/lib /root; dpkg-query -W | md5sum").stdout
    res = check(machines, machines.inventory, "--json")
    assert res.returncode == 0, res.stderr
    rows = {r["host"]: r for r in json.loads(res.stdout)["machines"]}
    assert sorted(rows) == sorted(h.name for h in machines.topology.hosts if h.role != "client")
    assert all(r["problem"] is None for r in rows.values()), rows
    # The machines share this machine's kernel clock: every measured offset is zero within its bound
    # (and the bound is that of one exchange over an open connection, not of a whole SSH handshake).
    for r in rows.values():
        assert abs(r["clock"]["offset_s"]) <= r["clock"]["error_s"] + 0.001, r
        assert r["clock"]["error_s"] < 0.1, r
    # each machine's host key was accepted once, into the lab's own known_hosts
    known = (lab_dir(LAB) / "ssh" / "known_hosts").read_text().splitlines()
    assert len(known) >= len(rows)
    assert machines.run("gw-a", "ls -A / /var/lib /root; dpkg-query -W | md5sum").stdout == before
    # the shared connections were closed again: no ssh master left behind
    assert not [p for p in (lab_dir(LAB) / "ssh").iterdir() if p.is_socket()]


def test_a_machine_without_sshd_is_named_in_one_line(machines: Machines) -> None:
    assert machines.run("dns-b", "kill $(cat /run/sshd.pid)").returncode == 0
    try:
        res = check(machines, machines.inventory)
        assert res.returncode == 1
        err = res.stderr.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert "hosts.dns-b: SSH to root@198.18.2.53:22 failed" in err, err
        assert "NOT READY" in res.stdout and res.stdout.count("ready") >= 10
    finally:
        assert machines.run("dns-b", "/usr/sbin/sshd").returncode == 0


def test_a_wrong_key_and_a_missing_sudo_are_named(machines: Machines, tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    res = check(machines, edited(machines, tmp_path, {"lb-b": {"key": str(other)}}))
    assert res.returncode == 1 and "hosts.lb-b: SSH to root@198.18.2.11:22 failed" in res.stderr, res.stderr
    assert "Permission denied" in res.stderr
    # become: true where the machine has no sudo: named, with what to allow
    res = check(machines, edited(machines, tmp_path, {"app-a": {"become": True}}))
    assert res.returncode == 1 and "hosts.app-a: `sudo -n` refused for root" in res.stderr, res.stderr


FIREWALL = """
import sys
from pathlib import Path
from nineslab.providers.hosts import firewall
from nineslab.providers.hosts.inventory import load_inventory
from nineslab.topology import load_topology
machines = load_inventory(Path(sys.argv[1]), load_topology(sys.argv[2]))
action, args = sys.argv[3], sys.argv[4:]
if action == "isolate":
    firewall.isolate(args[0], machines, args[1:], [h for h in machines if h not in args[1:]], True)
elif action == "unplug":
    firewall.unplug(args[0], machines[args[1]])
else:
    print(" ".join(firewall.restore(args[0], machines)[0]))
"""


def firewall(m: Machines, action: str, *args: str) -> str:
    """Run a firewall action as nineslab would, from the operator's side (the rig's client namespace)."""
    res = subprocess.run(
        ["ip", "netns", "exec", m.client_netns, sys.executable, "-c", FIREWALL, str(m.inventory), TOPOLOGY, action,
         LAB, *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def reaches(m: Machines, src: str, dst: str) -> bool:
    """A TCP connection from machine `src` to machine `dst`'s sshd within 1 s."""
    address = m.topology.host(dst).address
    probe = f"import socket; socket.create_connection(('{address}', 22), 1).close()"
    return m.run(src, f'python3 -c "{probe}"').returncode == 0


def test_a_zone_is_cut_from_the_others_both_ways_and_our_connection_stays(machines: Machines) -> None:
    east_a = [h.name for h in machines.topology.hosts if h.zone == "east-a"]
    assert reaches(machines, "gw-a", "gw-b") and reaches(machines, "gw-b", "gw-a")
    firewall(machines, "isolate", *east_a)
    try:
        assert not reaches(machines, "gw-a", "gw-b") and not reaches(machines, "gw-b", "gw-a")
        assert reaches(machines, "gw-a", "app-a") and reaches(machines, "gw-b", "app-b"), "inside a zone: untouched"
        # the operator still reaches both sides over SSH (the recovery below needs it)
        assert check(machines, machines.inventory).returncode == 0
    finally:
        restored = firewall(machines, "restore").split()
    assert sorted(restored) == sorted(h.name for h in machines.topology.hosts if h.role != "client")
    assert reaches(machines, "gw-a", "gw-b") and reaches(machines, "gw-b", "gw-a")
    assert firewall(machines, "restore") == "", "a second restore finds nothing to delete"
    assert "nineslab" not in machines.run("gw-a", "nft list tables").stdout


def test_an_unplugged_machine_is_dark_but_for_our_connection(machines: Machines) -> None:
    before = machines.run("etcd-b1", "nft list ruleset").stdout
    firewall(machines, "unplug", "etcd-b1")
    try:
        assert not reaches(machines, "gw-a", "etcd-b1") and not reaches(machines, "etcd-b1", "gw-b")
        assert reaches(machines, "gw-a", "gw-b"), "the others still talk"
        rows = json.loads(check(machines, machines.inventory, "--json").stdout)["machines"]
        assert all(r["problem"] is None for r in rows), "our SSH connection gets through"
    finally:
        assert firewall(machines, "restore") == "etcd-b1"
    assert machines.run("etcd-b1", "nft list ruleset").stdout == before, "the machine's own ruleset as it was"


def in_operator(m: Machines, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """nineslab as an operator runs it: on the machine that reaches the others (the rig's client namespace)."""
    cmd = ["ip", "netns", "exec", m.client_netns, NINESLAB, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


# The 2az fault classes the issue names: a node killed, a zone cut off, the primary nameserver down.
SUITE = ["gateway-kill", "zone-isolate", "dns-primary-down"]


def suite_under_load(m: Machines, reports: Path) -> None:
    """The faults run over SSH under one load from the operator, with the report; each behaves as on the
    other providers (test_faults.py): the killed gateway and the stopped nameserver cost next to nothing,
    and the cut zone's traffic moves to the other zone within the hold."""
    env = {**os.environ, "NINESLAB_REPORTS_DIR": str(reports)}
    cmd = ["ip", "netns", "exec", m.client_netns, NINESLAB, "suite", "--lab", LAB, "--rate", "50", "--json"]
    cmd += ["--workers", "2"]  # Locust's distributed mode: both workers on the operator's machine
    res = subprocess.run(
        [*cmd, *(a for f in SUITE for a in ("--only", f))], capture_output=True, text=True, timeout=600, env=env
    )
    out = json.loads(res.stdout)
    assert [e["experiment"] for e in out["experiments"]] == SUITE, out
    assert all(e["status"] == "completed" for e in out["experiments"]), out["experiments"]
    assert out["healthy"] and Path(out["report"]).is_file(), out
    run = Path(out["run"])
    results = json.loads((run / "results.json").read_text())
    cost = {f["fault"]: f["impact"]["error_seconds"] for f in results["faults"]}
    print("hosts error-seconds:", cost, "requests:", results["requests"])
    assert cost["gateway-kill"] < 2 and cost["dns-primary-down"] < 2, cost
    # In the last 5 s of the cut every request was answered, by the other zone; half of them would fail
    # (the answers naming the cut zone's LB) if its traffic had not moved.
    cut = next(w for w in fault_windows(read_events(run)) if w["fault"] == "zone-isolate")
    end = cut["effective_start"] + cut["hold_s"]
    late = [s for s in read_samples(run / "samples") if end - 5 <= s.start < end]
    seen = Counter((s.ok, s.gateway, s.error) for s in late)
    assert len(late) > 100 and sum(s.ok and s.gateway == "gw-b" for s in late) >= 0.9 * len(late), seen
    # ...and the operator's own resolver, a stub (nineslab runs no cache on the operator's machine), asks
    # the cut zone's nameserver first and waits out its 1 s timeout on every lookup: each request takes
    # just over a second, over the 1 s SLO (on netns the client's caching resolver spares it: README).
    # The cut reaches the operator's traffic to the zone, not only the zone's to the other zone.
    median = sorted(s.latency_ms for s in late)[len(late) // 2]
    assert 1000 <= median < 1300, (median, seen)
    one_time_line(run, results, m)


def one_time_line(run: Path, results: dict[str, Any], m: Machines) -> None:
    """Every machine's clock was measured at the run's start (one kernel here: offsets within their
    bounds), each fault was stamped on the machines it acted on, and those stamps, corrected, fall inside
    the operator's own window around the act. The load ran as a master and two workers."""
    clocks = json.loads((run / "clocks.json").read_text())
    assert sorted(clocks) == sorted(h.name for h in m.topology.hosts if h.role != "client")
    assert all(abs(c["offset_s"]) <= c["error_s"] + 0.001 and c["error_s"] < 0.1 for c in clocks.values()), clocks
    assert results["clocks"] == clocks
    events = [json.loads(line) for line in (run / "faults.jsonl").read_text().splitlines()]
    injects = {e["fault"]: e for e in events if e["phase"] == "inject"}
    recovers = {e["fault"]: e for e in events if e["phase"] == "recover"}
    for f in results["faults"]:
        ev, back, clock = injects[f["fault"]], recovers[f["fault"]], f["clock"]
        assert clock and set(clock["acted"]) <= set(clocks), (f["fault"], clock)
        slack = clock["acted_error_s"] + 0.005
        assert ev["apply_start"] - slack <= clock["acted_start"] <= ev["end"] + slack, (ev, clock)
        assert back["start"] - slack <= clock["recovered_end"] <= back["end"] + slack, (back, clock)
        assert f["effective_start"] == clock["acted_start"] and f["recover_end"] == clock["recovered_end"]
    assert results["load"]["workers"] == ["client", "client"], results["load"]
    assert results["load"]["master"].startswith("127.0.0.1:")
    assert len(list((run / "samples").glob("samples-client-*.csv"))) == 2


def test_deploy_over_ssh_runs_the_estate_on_the_machines_and_destroy_removes_only_it(
    machines: Machines, tmp_path: Path
) -> None:
    before = {h: machines.run(h, "ls -A / /var/lib /root; dpkg-query -W | md5sum").stdout for h in ("gw-a", "etcd-a1")}
    # The operator's resolver lists the estate's nameservers (on a real machine: its own resolv.conf).
    names = [str(h.address) for h in machines.topology.by_role("dns")]
    resolv = Path("/etc/netns") / machines.client_netns / "resolv.conf"  # the rig's file: its destroy removes it
    resolv.parent.mkdir(parents=True, exist_ok=True)
    resolv.write_text("".join(f"nameserver {a}\n" for a in names) + "options timeout:1 attempts:2\n")
    args = ("--lab", LAB)
    res = in_operator(machines, "deploy", "-t", TOPOLOGY, "--provider", "hosts", "-i", str(machines.inventory), *args)
    if res.returncode != 0:  # kept for the reader: destroy removes the lab's directory and its log
        shutil.copy(lab_dir(LAB) / "ansible.log", tmp_path / "ansible.log")
    assert res.returncode == 0, (res.stdout[-2000:], res.stderr[-2000:], str(tmp_path / "ansible.log"))
    status = json.loads(in_operator(machines, "status", "--json", *args).stdout)
    assert status["healthy"] and status["etcd"]["leader"], status
    assert status["entrypoint"]["served_by"], "a request through DNS -> LB -> gateway -> app from the operator"
    # Each daemon runs on its own machine, from what was shipped there (not from this machine's files).
    remote = lab_dir(LAB)
    gw = machines.run("gw-a", f"readlink /proc/$(cat {remote}/hosts/gw-a/run/traefik.pid)/exe").stdout.strip()
    assert gw == f"{remote}/bin/traefik", gw
    assert machines.run("gw-a", f"test -e {remote}/pki/ca.key").returncode != 0, "never the CA's key"
    assert not (remote / "hosts").exists(), "nothing of the hosts on the operator's machine"
    suite_under_load(machines, tmp_path / "reports")
    res = in_operator(machines, "destroy", *args)
    assert res.returncode == 0, res.stderr
    for host, listing in before.items():
        assert machines.run(host, f"test -e {remote}").returncode != 0, f"{host}: the lab's directory is gone"
        assert machines.run(host, "ls -A / /var/lib /root; dpkg-query -W | md5sum").stdout == listing
        # (the rig's machines share this machine's process table: look for the lab's shipped binaries only)
        running = machines.run(host, f"ls -l /proc/[0-9]*/exe 2>/dev/null | grep -c {remote}/bin/").stdout.strip()
        assert running == "0", f"{host}: a daemon of the lab still runs"
