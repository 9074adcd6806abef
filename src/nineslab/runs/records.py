"""The shapes of a run's JSON records besides its fault events (runs.events): what the load recorded
about itself (load.json) and how the run went (outcome.json). Times are epoch seconds."""

from __future__ import annotations

from typing import Any, TypedDict


class LoadSettings(TypedDict, total=False):
    """load.json: enough to repeat the schedule."""

    rate: float  # intended requests per second (open loop)
    deadline_s: float  # a request not answered by then failed
    duration_s: float
    users: int
    processes: int
    workers: list[str]  # the client hosts of Locust's workers ([] without workers)
    master: str | None
    seed: int
    open_loop: bool
    started: float


class ExperimentOutcome(TypedDict):
    experiment: str
    exit_code: int  # as `chaos run` would have exited
    status: str  # the journal's
    deviated: bool
    journal: str


class Outcome(TypedDict, total=False):
    """outcome.json: how the run went, written at its end (none: it was cut short)."""

    topology: str
    fault: str  # one experiment's fault
    experiments: list[ExperimentOutcome]
    applicable: list[str]  # every fault that applies to the topology
    stop_condition: str | None
    stopped: dict[str, Any] | None  # the stop condition crossed: why, when, what it recovered
    stopped_before: str | None
    load_stopped_before: str | None
    swept_between_faults: list[str]
    run: str
    healthy: bool  # after the final heal
    heal_actions: list[str]
    heal_errors: list[str]
    etcd_consistency: dict[str, Any]
    clean: bool
    # after the report: its counts and verdict
    requests: int
    failed: int
    stalled: int
    verdict: str
    headline: str
    report: str
