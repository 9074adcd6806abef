"""Pure functions: samples + fault windows -> availability, windows, outages, per-fault impact, projection.
No I/O here; the report layer reads files and renders."""

from nineslab.analysis.core import (
    Ratio,
    SampleArrays,
    breakdown,
    fault_impact,
    from_samples,
    latency_percentiles,
    longest_gap,
    outages,
    request_availability,
    time_availability,
    wilson,
)
from nineslab.analysis.projection import Assumption, project
from nineslab.analysis.verdict import VERDICTS, exit_code, verdict, verdict_reasons

__all__ = [
    "VERDICTS",
    "Assumption",
    "Ratio",
    "SampleArrays",
    "breakdown",
    "exit_code",
    "fault_impact",
    "from_samples",
    "latency_percentiles",
    "longest_gap",
    "outages",
    "project",
    "request_availability",
    "time_availability",
    "verdict",
    "verdict_reasons",
    "wilson",
]
