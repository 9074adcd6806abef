"""Sample files: CSV lines written by loadtests/recorder.py, one file per Locust process, and the
heartbeat files beside them (the client's own event-loop lag)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple, overload

CLIENT_OVERLOAD = "client_overload"  # an intended request the load generator could not send in time


class Sample(NamedTuple):
    start: float  # epoch seconds: the request's intended start on the open-loop schedule
    latency_ms: float  # from the actual start
    status: int  # 0: no response
    error: str  # "" when the request succeeded at the HTTP level
    lb: str
    gateway: str
    app: str
    zone: str
    lag_ms: float = 0.0  # actual start - intended start: the client's own scheduling lag
    waf: str = ""  # the WAF that filtered it; "" when no WAF did (no WAF tier, or sent past it)

    @property
    def ok(self) -> bool:
        return self.error == "" and 200 <= self.status < 400


def parse_line(line: str) -> Sample | None:
    """None for the header and for a line that cannot be read. Reads the three layouts:
    start,lag_ms,latency_ms,status,...,zone,waf (now), the same without waf (before the WAF tier), and
    start,latency_ms,status,... (before open loop)."""
    parts = line.rstrip("\n").split(",")
    if parts[0] == "start" or len(parts) not in (8, 9, 10):
        return None
    try:
        lag, waf = 0.0, ""
        if len(parts) == 10:
            waf = parts.pop()
        if len(parts) == 9:
            lag = float(parts.pop(1))
        error, lb, gateway, app, zone = parts[3:]
        return Sample(float(parts[0]), float(parts[1]), int(parts[2]), error, lb, gateway, app, zone, lag, waf)
    except (ValueError, TypeError):
        return None


@overload
def read_samples(samples_dir: Path) -> list[Sample]: ...


@overload
def read_samples(samples_dir: Path, count_dropped: Literal[True]) -> tuple[list[Sample], int]: ...


def read_samples(samples_dir: Path, count_dropped: bool = False) -> list[Sample] | tuple[list[Sample], int]:
    """Every sample of a run, sorted by start. With `count_dropped`, also how many lines could not be
    read (the header and a file's torn last line are not counted: a kill mid-write is expected)."""
    out: list[Sample] = []
    dropped = 0
    for path in sorted(samples_dir.glob("samples-*.csv")):
        with path.open() as f:
            data = f.read()
        lines = data.splitlines()
        if not data.endswith("\n"):
            lines = lines[:-1]  # torn by a kill mid-write (a prefix of a line may still parse)
        for i, line in enumerate(lines):
            s = parse_line(line)
            if s is not None:
                out.append(s)
            elif i > 0:
                dropped += 1
    out.sort(key=lambda s: s.start)
    return (out, dropped) if count_dropped else out


class Tail:
    """Incremental reader over a samples directory, for live progress."""

    def __init__(self, samples_dir: Path) -> None:
        self.dir = samples_dir
        self.offsets: dict[Path, int] = {}

    def new_samples(self) -> list[Sample]:
        out: list[Sample] = []
        for path in sorted(self.dir.glob("samples-*.csv")):
            with path.open() as f:
                f.seek(self.offsets.get(path, 0))
                data = f.read()
            cut = data.rfind("\n") + 1  # leave a partial last line for next time
            self.offsets[path] = self.offsets.get(path, 0) + len(data[:cut].encode())
            out.extend(s for s in map(parse_line, data[:cut].splitlines()) if s is not None)
        return out


class Heartbeat(NamedTuple):
    t: float  # the 100 ms window's scheduled end
    lag_ms: float  # the worst event-loop lag in it
    woke: float | None = None  # when that worst wake-up came: the stall's end (None in older files)


def read_heartbeats(samples_dir: Path) -> list[Heartbeat]:
    """Every load process's heartbeat lines, sorted by time."""
    out: list[Heartbeat] = []
    for path in sorted(samples_dir.glob("heartbeat-*.csv")):
        with path.open() as f:
            for line in f:
                parts = line.strip().split(",")
                try:
                    woke = float(parts[2]) if len(parts) > 2 else None
                    out.append(Heartbeat(float(parts[0]), float(parts[1]), woke))
                except (ValueError, IndexError):
                    continue  # the header, or a torn last line
    out.sort()
    return out
