"""Pure functions: samples + fault windows -> availability, windows, outages, per-fault impact, projection.
No I/O here; the report layer reads files and renders."""

from nineslab.analysis.core import (
    CLIENT_STALL_MS,
    Ratio,
    SampleArrays,
    breakdown,
    client_stalls,
    fault_impact,
    from_samples,
    latency_percentiles,
    latency_shift,
    longest_gap,
    merge_spans,
    outages,
    request_availability,
    series,
    time_availability,
    unfiltered,
    wilson,
    within,
)
from nineslab.analysis.projection import Assumption, project
from nineslab.analysis.verdict import VERDICTS, exit_code, label, verdict, verdict_reasons

__all__ = [
    "CLIENT_STALL_MS",
    "VERDICTS",
    "Assumption",
    "Ratio",
    "SampleArrays",
    "breakdown",
    "client_stalls",
    "exit_code",
    "fault_impact",
    "from_samples",
    "label",
    "latency_percentiles",
    "latency_shift",
    "longest_gap",
    "merge_spans",
    "outages",
    "project",
    "request_availability",
    "series",
    "time_availability",
    "unfiltered",
    "verdict",
    "verdict_reasons",
    "wilson",
    "within",
]
