"""Records every request of a Locust process into its own CSV sample file, one line per request,
flushed as it goes: a load run killed at any moment keeps everything it recorded.

Columns: start (epoch s), latency_ms, status (0 = no response), error ("" = none), lb, gateway, app, zone.
Settings come from the environment (nineslab load sets them):
  NINESLAB_SAMPLES_DIR  where sample files go (default ./samples)
  NINESLAB_DEADLINE_S   hard total deadline per request, DNS included (default 2)
  NINESLAB_USER_RATE    requests/s per user (constant throughput, default 5)
"""

from __future__ import annotations

import os
import random
import socket
import time
from typing import Any

import gevent
from locust import events

SAMPLES_DIR = os.environ.get("NINESLAB_SAMPLES_DIR", "samples")
DEADLINE_S = float(os.environ.get("NINESLAB_DEADLINE_S", "2"))
RATE_PER_USER = float(os.environ.get("NINESLAB_USER_RATE", "5"))
HEADER = "start,latency_ms,status,error,lb,gateway,app,zone\n"
# "Connection: close": every request resolves the name and connects anew, so DNS and LB faults are
# felt by every request, as by a fleet of short-lived clients.
REQUEST_HEADERS = {"Connection": "close"}

_file: Any = None


def _out() -> Any:
    global _file
    if _file is None:
        os.makedirs(SAMPLES_DIR, exist_ok=True)
        path = os.path.join(SAMPLES_DIR, f"samples-{socket.gethostname()}-{os.getpid()}.csv")
        _file = open(path, "a", buffering=1)  # line-buffered: one write(2) per sample  # noqa: SIM115
        if _file.tell() == 0:
            _file.write(HEADER)
    return _file


def error_kind(exception: BaseException | None, status: int) -> str:
    """A short, stable name for what went wrong (analysis groups by it)."""
    if exception is None:
        return "" if status < 400 else f"http_{status // 100}xx"
    text = f"{type(exception).__name__} {exception}"
    for needle, kind in (
        ("NameResolution", "dns"),
        ("Failed to resolve", "dns"),
        ("gaierror", "dns"),
        ("ConnectTimeout", "connect_timeout"),
        ("ReadTimeout", "read_timeout"),
        ("timed out", "timeout"),
        ("refused", "refused"),
        ("reset", "reset"),
        ("RemoteDisconnected", "disconnected"),
    ):
        if needle in text:
            return kind
    if status >= 400:
        return f"http_{status // 100}xx"
    return type(exception).__name__


def record(start: float, latency_ms: float, status: int, error: str, headers: Any = None) -> None:
    h = headers or {}
    _out().write(
        f"{start:.6f},{latency_ms:.3f},{status},{error},{h.get('x-nines-lb', '')},"
        f"{h.get('x-nines-gateway', '')},{h.get('x-nines-app', '')},{h.get('x-nines-zone', '')}\n"
    )


@events.request.add_listener
def on_request(
    response_time: float,
    response: Any = None,
    exception: BaseException | None = None,
    start_time: float | None = None,
    **_kw: Any,
) -> None:
    status = int(getattr(response, "status_code", 0) or 0)
    headers = getattr(response, "headers", None)
    record(
        start_time or time.time() - response_time / 1000, response_time, status, error_kind(exception, status), headers
    )


def poisson_pacing(rate: float) -> Any:
    """Locust wait_time: each user starts tasks as a Poisson process of `rate` per second (a constant
    throughput on average, like constant_throughput, but with random gaps). Plain constant pacing lets
    users that stalled together fire together for ever after: bursts with ~150 ms blind spots between
    them, which blur where an outage begins and ends."""

    def wait_time(user: Any) -> float:
        now = time.time()
        last = getattr(user, "_np_next", now)
        nxt = max(last, now - 1.0) + random.expovariate(rate)  # catch up at most 1 s of lag
        user._np_next = nxt
        return max(0.0, nxt - now)

    return wait_time


def get(client: Any, path: str) -> None:
    """GET with a hard total deadline (socket timeouts are per read, not per request). A request cut
    by the deadline never reaches Locust's request event, so it is recorded here."""
    start = time.time()
    try:
        with gevent.Timeout(DEADLINE_S):
            client.get(path, headers=REQUEST_HEADERS)
    except gevent.Timeout:
        record(start, (time.time() - start) * 1000, 0, "deadline")
