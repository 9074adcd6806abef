"""Stop conditions (what FIS, Gremlin and Chaos Mesh call guardrails): a live bound on the run's own
samples. The load's sample files are read as they are written; when the error ratio of the requests
of the last `for_s` seconds reaches the bound, the run's faults are recovered at once, the experiment
in flight is interrupted, no further fault starts, and the run is ABORTED with the reason."""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nineslab.faults import active_faults, recover
from nineslab.lab import Lab
from nineslab.load.samples import CLIENT_OVERLOAD, Tail
from nineslab.runs import Run
from nineslab.runs.events import append_event, recover_event

CHECK_EVERY_S = 0.5
MIN_SAMPLES = 20  # a handful of requests is no evidence either way


@dataclass(frozen=True)
class StopCondition:
    error_ratio: float  # abort when at least this share of the window's requests failed
    for_s: float  # the window: the requests that started in the last for_s seconds

    def describe(self) -> str:
        return f"error ratio >= {self.error_ratio:g} over {self.for_s:g} s"


class ErrorWindow:
    """Requests by start time (they are recorded when they end, so out of order) -> the error ratio of
    those that started in the last `for_s` seconds before the newest one. Pure."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.bad: list[bool] = []

    def add(self, start: float, ok: bool) -> None:
        i = bisect.bisect(self.starts, start)
        self.starts.insert(i, start)
        self.bad.insert(i, not ok)

    def forget_before(self, t: float) -> None:
        """Drop requests that started before `t` (the watch keeps only what a window can still need)."""
        i = bisect.bisect_left(self.starts, t)
        del self.starts[:i], self.bad[:i]

    def ratio(self, for_s: float) -> tuple[float, int]:
        """(error ratio, requests) of the window; (0, 0) before a full window has been seen."""
        if not self.starts or self.starts[-1] - self.starts[0] < for_s:
            return 0.0, 0
        i = bisect.bisect_left(self.starts, self.starts[-1] - for_s)
        window = self.bad[i:]
        return (sum(window) / len(window), len(window)) if window else (0.0, 0)


def crossed(condition: StopCondition, window: ErrorWindow) -> str | None:
    """The reason to stop, in words, or None. Pure."""
    ratio, n = window.ratio(condition.for_s)
    if n >= MIN_SAMPLES and ratio >= condition.error_ratio:
        return f"stop condition crossed: {ratio:.0%} of {n} requests failed over the last {condition.for_s:g} s"
    return None


class Watch(threading.Thread):
    """Reads the run's samples while it runs; calls `on_trip(reason)` once when the condition is crossed.
    Bounded: it ends when stopped, or by itself after `max_s`."""

    def __init__(
        self, condition: StopCondition, samples_dir: Path, on_trip: Callable[[str], None], max_s: float
    ) -> None:
        super().__init__(daemon=True, name="nineslab-stop-condition")
        self.condition = condition
        self.tail = Tail(samples_dir)
        self.window = ErrorWindow()
        self.on_trip = on_trip
        self.max_s = max_s
        self.tripped: dict[str, Any] | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + self.max_s
        while not self._stop_event.wait(CHECK_EVERY_S) and time.monotonic() < deadline:
            for s in self.tail.new_samples():
                if s.error != CLIENT_OVERLOAD:  # the client's own failure to send says nothing of the estate
                    self.window.add(s.start, s.ok)
            if self.window.starts:
                # a late request (recorded at its deadline) still lands in the window it started in
                self.window.forget_before(self.window.starts[-1] - self.condition.for_s - 60.0)
            reason = crossed(self.condition, self.window)
            if reason:
                self.tripped = {"condition": self.condition.describe(), "reason": reason, "at": time.time()}
                self.on_trip(reason)
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


class Guardrail:
    """A run's stop condition at work (or nothing, without one): watches the run's samples; when the
    condition is crossed it recovers every injected fault of the lab at once (from their state files)
    and sets `stopping`: the experiment in flight is interrupted (its hold ends; Chaos Toolkit runs its
    rollbacks, which find nothing left to do), no later fault starts, and the run's waits end early."""

    def __init__(
        self,
        lab_name: str,
        run_dir: Path,
        condition: StopCondition | None,
        say: Callable[[str], None],
        max_s: float,
        stopping: threading.Event,
    ) -> None:
        # its own Lab, by name: it recovers from the watch's thread while the experiment acts through the run's
        self.lab = Lab(lab_name)
        self.run_dir = run_dir
        self.say = say
        self.event = stopping
        self.recovered: list[str] = []
        self.watch = Watch(condition, Run(run_dir).samples, self._trip, max_s) if condition else None

    def _trip(self, reason: str) -> None:
        self.say(f"!!! {reason} — recovering every fault now and stopping the run")
        for record in active_faults(self.lab):
            try:
                started = time.time()
                result = recover(self.lab, record["fault"])
                if result.get("recovered"):
                    self.recovered.append(record["fault"])
                    # the fault's window closes here (the experiment's own recover finds nothing left)
                    append_event(self.run_dir, recover_event(result, started, time.time(), by="stop condition"))
            except Exception as exc:  # noqa: BLE001 - the run's heal sweeps whatever this could not undo
                self.say(f"stop condition: recovering {record['fault']} failed ({exc}); heal will sweep it")
        self.event.set()

    def wait(self, seconds: float) -> bool:
        """Sleep `seconds`, or less when the condition is crossed meanwhile; True if it was."""
        return self.event.wait(seconds)

    @property
    def tripped(self) -> dict[str, Any] | None:
        if self.watch is None or self.watch.tripped is None:
            return None
        return {**self.watch.tripped, "recovered": self.recovered}

    def __enter__(self) -> Guardrail:
        if self.watch is not None:
            self.watch.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.watch is not None:
            self.watch.stop()
