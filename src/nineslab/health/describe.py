"""A lab's status in words (what `nineslab status` prints). Pure."""

from __future__ import annotations

from typing import Any

__all__ = ["certificates_line", "host_state", "status_lines"]


def certificates_line(st: dict[str, Any]) -> str:
    """etcd's TLS in one line: the soonest expiry first (an expired certificate stops its member)."""
    if not st.get("etcd_tls"):
        return "etcd without TLS (security.etcd_tls: false): anyone on the lab's network may write its state"
    days = st.get("certificates") or {}
    missing = sorted(n for n, d in days.items() if d is None)
    known = sorted((d, n) for n, d in days.items() if d is not None)
    if not known:
        return "etcd mutual TLS: NO CERTIFICATES found — run `nineslab deploy` to issue them"
    soonest, name = known[0]
    state = "EXPIRED" if soonest <= 0 else f"{soonest:g} days left"
    line = f"etcd mutual TLS and users: {len(known)} certificates, soonest {name}: {state}"
    return line + (f"; MISSING {', '.join(missing)}" if missing else "")


def status_lines(st: dict[str, Any]) -> list[str]:
    """`nineslab status` in words: the lab, its entry point, etcd, its certificates, one line per host."""
    lines = []
    ep = st["entrypoint"]
    served = " ".join(f"{k.removeprefix('X-Nines-').lower()}={v}" for k, v in ep["served_by"].items())
    lines.append(
        f"lab {st['lab']}  topology {st['topology']}  target {st['target'] * 100:g} %  "
        f"{'HEALTHY' if st['healthy'] else 'UNHEALTHY'}"
    )
    lines.append(
        f"entrypoint {ep['url']} from netns {ep['client_netns']} via {ep.get('client_resolver', 'stub')} resolver "
        f"-> {', '.join(ep['resolvers'])}: "
        f"{'ok ' + served if ep['healthy'] else 'FAILING ' + str(ep.get('error') or '')}"
    )
    e = st["etcd"]
    fence = (
        "etcd fenced off from the client segment" if st.get("fence") else "NO FENCE: the client segment reaches etcd"
    )
    lines.append(
        f"etcd leader {e['leader'] or 'NONE'}; healthy members {len(e['healthy_members'])}/{len(e['endpoints'])}; "
        f"{fence}"
    )
    lines.append(certificates_line(st))
    lines.append(f"{'host':<10} {'role':<8} {'zone':<8} {'region':<6} {'address':<15} {'netns':<20} state")
    for h in st["hosts"]:
        lines.append(
            f"{h['name']:<10} {h['role']:<8} {h['zone'] or '-':<8} {h['region'] or '-':<6} "
            f"{h['address']:<15} {h['netns']:<20} {host_state(h)}"
        )
    return lines


def host_state(h: dict[str, Any]) -> str:
    if h.get("etcd_half_open"):
        members = ", ".join(h["etcd_half_open"])
        return f"STALE: holds a half-open etcd connection to {members} (a watch on it follows no change)"
    return "up" if h["healthy"] else "DOWN"
