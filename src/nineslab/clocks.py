"""One time line for samples and fault windows. The samples are stamped by the client's clock; a fault
that acts on a machine with a clock of its own (the hosts provider) is stamped there, at the moment it
acts, and put on the client's time line by that machine's measured offset. Offsets are seconds (host
minus client) with the bound of their measurement, in one format wherever they are kept. Pure."""

from __future__ import annotations

from typing import Any, NamedTuple


class Clock(NamedTuple):
    offset_s: float  # host minus client
    error_s: float  # the bound of that measurement (half the round trip)


ClockTable = dict[str, Clock | None]  # None: the host did not answer


# What a provider's hands did to hosts that keep their own clocks (machines): (host, epoch s as read on
# that host when the act took hold). Returned by each act; empty where every host reads this clock.
Acts = list[tuple[str, float]]


def clocks_to_json(clocks: ClockTable) -> dict[str, dict[str, float] | None]:
    """{host: {offset_s, error_s}} (null: not measured), as the lab and every run keep them."""
    return {
        h: None if c is None else {"offset_s": round(c.offset_s, 6), "error_s": round(c.error_s, 6)}
        for h, c in sorted(clocks.items())
    }


def clocks_from_json(raw: Any) -> ClockTable:
    """The table back; also a run made before offsets were kept in seconds ({offset_ms, error_ms}).
    Anything else in it is left out (a host whose clock is unknown: its stamps stay uncorrected)."""
    out: ClockTable = {}
    for host, c in (raw if isinstance(raw, dict) else {}).items():
        if c is None:
            out[str(host)] = None
            continue
        if not isinstance(c, dict):
            continue
        try:
            if "offset_s" in c:
                out[str(host)] = None if c["offset_s"] is None else Clock(float(c["offset_s"]), float(c["error_s"]))
            elif "offset_ms" in c:
                ms = c["offset_ms"]
                out[str(host)] = None if ms is None else Clock(float(ms) / 1000, float(c["error_ms"]) / 1000)
        except (TypeError, ValueError, KeyError):
            continue
    return out


def measured(clocks: ClockTable) -> dict[str, Clock]:
    """The hosts whose offset is known."""
    return {h: c for h, c in clocks.items() if c is not None}


def on_client_clock(
    acts: Acts, offsets: dict[str, Clock] | dict[str, tuple[float, float]], key: str = "acted"
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
