"""Open-loop load and its recorder. Requests are fired on a schedule (a seeded Poisson process at the
given rate) that never waits for earlier answers: a hung estate gets as many attempts as a healthy
one (wrk2 / HdrHistogram on coordinated omission). Every request is one CSV line in this process's own
sample file, flushed as it goes: a load run killed at any moment keeps everything it recorded.

Sample columns: start (the request's intended start on the schedule, epoch s), lag_ms (actual start -
intended: the client's own scheduling lag), latency_ms (from the actual start), status (0 = no
response), error ("" = none), lb, gateway, app, zone, waf (the WAF that filtered it; "" = none: no WAF
tier, or the LBs sent it past the tier).
Each user ends by writing done-<client>-<pid>-<user> there (its schedule is over and answered).
A heartbeat greenlet measures the event loop's own lag (how late a 10 ms sleep wakes), one line per
100 ms in heartbeat-<client>-<pid>.csv: t, max_lag_ms. The analysis marks where the client stalled.

Settings come from the environment (nineslab load sets them):
  NINESLAB_SAMPLES_DIR  where sample files go (default ./samples)
  NINESLAB_DEADLINE_S   hard total deadline per request, DNS included (default 2)
  NINESLAB_USER_RATE    requests/s each Locust user schedules (default 5)
  NINESLAB_DURATION_S   the schedule ends after this long (default 3600): the loop stops by itself
  NINESLAB_SEED         the schedule's seed (default 1); each user's stream also takes its worker and
                        user index, so a run is reproducible from the seed
  NINESLAB_CLIENT       the client host this process runs on, in its files' names (default: hostname)
"""

from __future__ import annotations

import math
import os
import random
import socket
import time
from collections.abc import Iterator
from typing import Any

import gevent
from locust.exception import StopUser
from locust.runners import STATE_CLEANUP, STATE_STOPPED, STATE_STOPPING

SAMPLES_DIR = os.environ.get("NINESLAB_SAMPLES_DIR", "samples")
DEADLINE_S = float(os.environ.get("NINESLAB_DEADLINE_S", "2"))
RATE_PER_USER = float(os.environ.get("NINESLAB_USER_RATE", "5"))
DURATION_S = float(os.environ.get("NINESLAB_DURATION_S", "3600"))
SEED = os.environ.get("NINESLAB_SEED", "1")
CLIENT = os.environ.get("NINESLAB_CLIENT") or socket.gethostname()  # the client host, in file names
# Requests one user may have in flight: the rate times the deadline, with room. Past it, an intended
# request is recorded as `client_overload` at once (the client, not the estate, failed it) instead of
# waiting for a slot — waiting would make the load closed-loop again.
IN_FLIGHT = max(16, math.ceil(RATE_PER_USER * DEADLINE_S * 2))
HEADER = "start,lag_ms,latency_ms,status,error,lb,gateway,app,zone,waf\n"
HEARTBEAT_HEADER = "t,max_lag_ms,woke\n"
# "Connection: close": every request resolves the name and connects anew, so DNS and LB faults are
# felt by every request, as by a fleet of short-lived clients.
REQUEST_HEADERS = {"Connection": "close"}

# Name lookups run in gevent's thread pool (glibc's resolver, like the clients being modelled); its
# default of 10 threads would queue lookups behind a slow resolver and measure the client.
gevent.get_hub().threadpool.maxsize = IN_FLIGHT

_files: dict[str, Any] = {}
STOPPING = (STATE_CLEANUP, STATE_STOPPING, STATE_STOPPED)  # the runner's states once a stop has begun


def _out(kind: str = "samples", header: str = HEADER) -> Any:
    if kind not in _files:
        os.makedirs(SAMPLES_DIR, exist_ok=True)
        path = os.path.join(SAMPLES_DIR, f"{kind}-{CLIENT}-{os.getpid()}.csv")
        f = open(path, "a", buffering=1)  # line-buffered: one write(2) per line  # noqa: SIM115
        if f.tell() == 0:
            f.write(header)
        _files[kind] = f
    return _files[kind]


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
        ("unreachable", "unreachable"),
        ("reset", "reset"),
        ("RemoteDisconnected", "disconnected"),
    ):
        if needle in text:
            return kind
    if status >= 400:
        return f"http_{status // 100}xx"
    return type(exception).__name__


def record(intended: float, start: float, latency_ms: float, status: int, error: str, headers: Any = None) -> None:
    h = headers or {}
    _out().write(
        f"{intended:.6f},{(start - intended) * 1000:.3f},{latency_ms:.3f},{status},{error},"
        f"{h.get('x-nines-lb', '')},{h.get('x-nines-gateway', '')},{h.get('x-nines-app', '')},"
        f"{h.get('x-nines-zone', '')},{h.get('x-nines-waf', '')}\n"
    )


def _caused_by(exc: BaseException | None, target: BaseException) -> bool:
    """Whether `target` is `exc` or what it wraps: geventhttpclient turns a timeout into
    RetriesExceeded(original=...) even with no retries (bounded walk)."""
    for _ in range(8):
        if exc is None:
            return False
        if exc is target:
            return True
        exc = getattr(exc, "original", None) or exc.__cause__ or exc.__context__
    return False


def fire(client: Any, path: str, intended: float) -> None:
    """One request with a hard total deadline (socket timeouts are per read, not per request),
    DNS included; recorded whatever happens."""
    start = time.time()
    deadline = gevent.Timeout(DEADLINE_S)
    deadline.start()
    try:
        resp = client.get(path, headers=REQUEST_HEADERS)  # Locust's session turns failures into .error
        status, headers = int(getattr(resp, "status_code", 0) or 0), getattr(resp, "headers", None)
        err: BaseException | None = getattr(resp, "error", None)
        kind = "deadline" if _caused_by(err, deadline) else error_kind(err, status)
    except gevent.Timeout as exc:
        if exc is not deadline:
            raise
        status, headers, kind = 0, None, "deadline"
    finally:
        deadline.close()
    record(intended, start, (time.time() - start) * 1000, status, kind, headers)


def schedule(rate: float, seed: str, start: float, duration_s: float) -> Iterator[float]:
    """Intended start times: a Poisson process of `rate` per second from `start`, for `duration_s`."""
    rng = random.Random(seed)
    t = start
    while True:
        t += rng.expovariate(rate)
        if t - start > duration_s:
            return
        yield t


def heartbeat(tick_s: float = 0.01, every_s: float = 0.1) -> None:
    """How late the event loop wakes from a short sleep: the client's own stalls, one line per 100 ms:
    the window's scheduled end, its worst lag, and when that worst wake-up came (the stall's end — after
    a long stall the window's scheduled end lies before the stall itself: the loop only writes on waking)."""
    out = _out("heartbeat", HEARTBEAT_HEADER)
    end = time.time() + DURATION_S + DEADLINE_S
    window_end, worst, woke = time.time() + every_s, 0.0, 0.0
    while time.time() < end:  # bounded by the schedule's length
        before = time.time()
        gevent.sleep(tick_s)
        now = time.time()
        lag = (now - before - tick_s) * 1000
        if lag >= worst:
            worst, woke = lag, now
        if now >= window_end:
            out.write(f"{window_end:.3f},{worst:.3f},{woke:.3f}\n")
            window_end, worst = max(window_end + every_s, now), 0.0


_heartbeat: Any = None
_users = 0


def open_loop(user: Any, path: str) -> None:
    """A user's whole life: fire `path` at every intended start of its own seeded schedule, wait for
    the last answers (each bounded by the deadline), then stop the user: the schedule runs once. A stop
    (the run's end, SIGTERM) ends the schedule at once and waits only for the answers in flight: Locust
    asks a user to stop between tasks and this task never returns, so without looking each stop waited
    out --stop-timeout (3 s), firing new requests, and lost the answers still in flight."""
    global _heartbeat, _users
    if _heartbeat is None:
        _heartbeat = gevent.spawn(heartbeat)
    _users += 1
    me = _users
    worker = getattr(user.environment.runner, "worker_index", 0)
    in_flight: set[Any] = set()
    runner = user.environment.runner  # None for a user run alone (locust's run_single_user, a test)
    for intended in schedule(RATE_PER_USER, f"{SEED}-{worker}-{me}", time.time(), DURATION_S):
        gevent.sleep(max(0.0, intended - time.time()))
        if runner is not None and runner.state in STOPPING:
            break
        if len(in_flight) >= IN_FLIGHT:
            record(intended, time.time(), 0.0, 0, "client_overload")
            continue
        g = gevent.spawn(fire, user.client, path, intended)
        in_flight.add(g)
        g.link(in_flight.discard)
    gevent.joinall(list(in_flight), timeout=DEADLINE_S + 1)
    # This user's schedule is over and answered: nineslab load ends Locust once every user's is.
    open(os.path.join(SAMPLES_DIR, f"done-{CLIENT}-{os.getpid()}-{me}"), "w").close()  # noqa: SIM115
    raise StopUser
