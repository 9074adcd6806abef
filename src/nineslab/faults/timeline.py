"""One time line for samples and fault windows. The samples are stamped by the client's clock; a fault
that acts on a machine with a clock of its own (the hosts provider) is stamped there, at the moment it
acts, and put on the client's time line by that machine's measured offset. Pure."""

from __future__ import annotations

from typing import Any

CLOCKS_FILE = "clocks.json"  # in a run directory: each machine's clock against the client's at its start


def on_client_clock(
    acts: list[tuple[str, float]], offsets: dict[str, tuple[float, float]], key: str = "acted"
) -> dict[str, Any]:
    """`acts` (host, epoch s on the host's clock) as the client's clock read them: each minus its host's
    offset (host minus client). Returns {key: {host: first act}, key_start: the first, key_end: the last,
    key_error_s: the largest bound of the offsets used}, and {key_unmeasured: hosts} for acts whose
    host's clock was never measured (left out: an uncorrected stamp is on another time line). {} without
    acts (one clock: the operator's own stamps are the truth)."""
    corrected: dict[str, list[float]] = {}
    unmeasured: set[str] = set()
    for host, t in acts:
        if host in offsets:
            corrected.setdefault(host, []).append(t - offsets[host][0])
        else:
            unmeasured.add(host)
    out: dict[str, Any] = {}
    if corrected:
        times = [t for ts in corrected.values() for t in ts]
        out[key] = {h: round(min(ts), 6) for h, ts in sorted(corrected.items())}
        out[f"{key}_start"] = min(times)
        out[f"{key}_end"] = max(times)
        out[f"{key}_error_s"] = max(offsets[h][1] for h in corrected)
    if unmeasured:
        out[f"{key}_unmeasured"] = sorted(unmeasured)
    return out


def effective_start(event: dict[str, Any]) -> float:
    """When a fault could first take effect, on the client's time line: the first act stamped on a host
    (corrected) where there is one, else when the op began to apply, else when the action began."""
    return float(event.get("acted_start") or event.get("apply_start") or event["start"])


def recovered_end(event: dict[str, Any]) -> float:
    """When a fault's recovery ended on the client's time line: the last undo stamped on a host
    (corrected) where there is one, else when the recover action returned."""
    return float(event.get("recovered_end") or event["end"])


def stamps(record: dict[str, Any], key: str) -> dict[str, Any]:
    """The fields on_client_clock(..., key) put into a record."""
    return {k: v for k, v in record.items() if k == key or k.startswith(f"{key}_")}


def clock_table(clocks: dict[str, tuple[float, float] | None]) -> dict[str, dict[str, float | None]]:
    """Measured offsets as a run records them: {host: {offset_ms, error_ms}} (None: did not answer)."""
    return {
        h: {"offset_ms": None, "error_ms": None}
        if c is None
        else {"offset_ms": round(c[0] * 1000, 3), "error_ms": round(c[1] * 1000, 3)}
        for h, c in sorted(clocks.items())
    }
