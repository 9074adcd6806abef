"""Network faults on machines with no router between them: nft rules on the machines themselves, in a
table of the lab's own (`inet nineslab_<lab>`), so that recovery is that one table deleted and nothing
else of a machine's ruleset is touched. The operator's address (where nineslab runs, as the machine sees
its SSH connection) is accepted before anything is dropped: the control connection that recovers the
fault stays open (only it: the operator's load to a cut machine is dropped like any other traffic)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address
from typing import TypeVar

from nineslab.clocks import Acts
from nineslab.errors import LabError
from nineslab.providers.hosts import ssh
from nineslab.providers.hosts.inventory import Machine

# Where this SSH connection comes from, as the machine sees it (sshd sets SSH_CLIENT).
OPERATOR = 'echo "${SSH_CLIENT%% *}"'
TIMEOUT_S = 30.0
T = TypeVar("T")


def table(lab: str) -> str:
    """nft identifiers take no dash; lab names take no underscore, so the mapping is one to one."""
    return "nineslab_" + lab.replace("-", "_")


def ruleset(lab: str, operator: str, ssh_port: int, drop: list[str] | None) -> str:
    """An nft script that replaces the lab's table with one accepting loopback and our SSH connection
    (from `operator` to the machine's sshd), then dropping traffic to and from `drop` (None: everything
    else — a machine whose power is off)."""
    t = table(lab)
    if drop is None:
        tail_in, tail_out = ["drop"], ["drop"]
    elif drop:
        tail_in, tail_out = [f"ip saddr {{ {', '.join(drop)} }} drop"], [f"ip daddr {{ {', '.join(drop)} }} drop"]
    else:
        tail_in = tail_out = []
    lines = [
        f"table inet {t}",  # made first, so the delete below cannot fail on a machine that has none
        f"delete table inet {t}",
        f"table inet {t} {{",
        "  chain input {",
        "    type filter hook input priority -10; policy accept;",
        '    iif "lo" accept',
        f"    ip saddr {operator} tcp dport {ssh_port} accept",
        *(f"    {r}" for r in tail_in),
        "  }",
        "  chain output {",
        "    type filter hook output priority -10; policy accept;",
        '    oif "lo" accept',
        f"    ip daddr {operator} tcp sport {ssh_port} accept",
        *(f"    {r}" for r in tail_out),
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _root(machine: Machine, command: str) -> str:
    return f"sudo -n sh -c '{command}'" if machine.become else command


def _run(lab: str, machine: Machine, command: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    res = ssh.run(lab, machine, command, stdin, TIMEOUT_S)
    if res is None:
        raise LabError(f"{machine.host}: no answer over SSH within {TIMEOUT_S:.0f} s — is it up?")
    return res


def operator_address(lab: str, machine: Machine) -> str:
    """This machine's address as `machine` sees it (the source of our SSH connection)."""
    res = _run(lab, machine, OPERATOR)
    found = res.stdout.strip()
    try:
        return str(IPv4Address(found))
    except ValueError:
        raise LabError(f"{machine.host}: cannot tell where our SSH connection comes from ({found!r})") from None


def apply(lab: str, machine: Machine, script: str) -> Acts:
    res = _run(lab, machine, _root(machine, f"nft -f - && {ssh.STAMP}"), script)
    if res.returncode:
        why = " ".join(res.stderr.split())[-200:]
        raise LabError(f"{machine.host}: nft refused the lab's rules ({why}) — is nftables installed there?")
    return ssh.acted(machine.host, res.stdout)


def clear(lab: str, machine: Machine) -> tuple[bool, Acts]:
    """Delete the lab's table on the machine; whether there was one, and when it went."""
    t = table(lab)
    command = f"nft list table inet {t} >/dev/null 2>&1 || exit 3; nft delete table inet {t} && {ssh.STAMP}"
    res = _run(lab, machine, _root(machine, command))
    if res.returncode not in (0, 3):
        raise LabError(f"{machine.host}: could not delete nft table {t}: {' '.join(res.stderr.split())[-200:]}")
    return res.returncode == 0, ssh.acted(machine.host, res.stdout)


def _each(machines: list[Machine], work: Callable[[Machine], T]) -> list[T]:
    with ThreadPoolExecutor(max_workers=max(1, min(16, len(machines)))) as pool:
        return list(pool.map(work, machines))


def isolate(lab: str, machines: dict[str, Machine], inside: list[str], outside: list[str], client: bool) -> Acts:
    """Cut the machines `inside` (a zone's or a region's) from those `outside`, both ways: rules on both
    sides, so a side whose rules are partial still cannot talk. With `client`, the inside drops the
    operator's machine too (where the load comes from), all but our SSH connection."""
    ins, outs = [machines[h] for h in inside], [machines[h] for h in outside]
    if not ins or not outs:
        raise LabError(f"isolate: {', '.join(inside) or 'nothing'} is not a proper part of the machines")
    op = operator_address(lab, ins[0])
    out_addrs = [str(m.address) for m in outs if str(m.address) != op]
    in_addrs = [str(m.address) for m in ins if str(m.address) != op]
    cut_in = out_addrs + ([op] if client else [])
    acts = _each(ins, lambda m: apply(lab, m, ruleset(lab, op, m.port, cut_in)))
    acts += _each(outs, lambda m: apply(lab, m, ruleset(lab, op, m.port, in_addrs)))
    return [a for found in acts for a in found]


def unplug(lab: str, machine: Machine) -> Acts:
    """Every packet of the machine dropped but loopback and our SSH connection (its power off, as the
    network sees it: the connection that recovers it stays)."""
    return apply(lab, machine, ruleset(lab, operator_address(lab, machine), machine.port, None))


def restore(lab: str, machines: dict[str, Machine]) -> tuple[list[str], Acts]:
    """Delete the lab's table on every machine (recovery and heal's sweep); the hosts that had one, and
    when each went."""
    found = _each(list(machines.values()), lambda m: clear(lab, m))
    had = [h for h, (was, _) in zip(machines, found, strict=True) if was]
    return had, [a for _, acts in found for a in acts]
