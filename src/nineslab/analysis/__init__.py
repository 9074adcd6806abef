"""Pure functions: samples + fault windows -> availability, windows, outages, per-fault impact, projection.
No I/O here; the report layer reads files and renders."""

from typing import TYPE_CHECKING, Any

# Imported now (no numpy): the function `verdict` must be what the package's `verdict` names, not the
# module of the same name a later import of it would leave there.
from nineslab.analysis.verdict import VERDICTS, exit_code, label, verdict, verdict_reasons

if TYPE_CHECKING:
    from nineslab.analysis.bounds import BOUND_NAME, cp_upper
    from nineslab.analysis.core import (
        CLIENT_STALL_MS,
        MAX_STALL_SHARE,
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
        overlapping,
        permutation_p,
        request_availability,
        series,
        time_availability,
        unfiltered,
        wilson,
        within,
    )
    from nineslab.analysis.projection import BASELINE, Assumption, BaselineEvidence, FaultRun, project

# Loaded on first use (PEP 562): numpy costs ~90 ms, and every `nineslab` command imports this package,
# most of them (status, inject, recover, heal) never to analyse anything.
_HOME = {
    "Assumption": "nineslab.analysis.projection",
    "BASELINE": "nineslab.analysis.projection",
    "BOUND_NAME": "nineslab.analysis.bounds",
    "BaselineEvidence": "nineslab.analysis.projection",
    "CLIENT_STALL_MS": "nineslab.analysis.core",
    "FaultRun": "nineslab.analysis.projection",
    "MAX_STALL_SHARE": "nineslab.analysis.core",
    "Ratio": "nineslab.analysis.core",
    "SampleArrays": "nineslab.analysis.core",
    "breakdown": "nineslab.analysis.core",
    "client_stalls": "nineslab.analysis.core",
    "cp_upper": "nineslab.analysis.bounds",
    "fault_impact": "nineslab.analysis.core",
    "from_samples": "nineslab.analysis.core",
    "latency_percentiles": "nineslab.analysis.core",
    "latency_shift": "nineslab.analysis.core",
    "longest_gap": "nineslab.analysis.core",
    "merge_spans": "nineslab.analysis.core",
    "outages": "nineslab.analysis.core",
    "overlapping": "nineslab.analysis.core",
    "permutation_p": "nineslab.analysis.core",
    "project": "nineslab.analysis.projection",
    "request_availability": "nineslab.analysis.core",
    "series": "nineslab.analysis.core",
    "time_availability": "nineslab.analysis.core",
    "unfiltered": "nineslab.analysis.core",
    "wilson": "nineslab.analysis.core",
    "within": "nineslab.analysis.core",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "BASELINE",
    "BOUND_NAME",
    "CLIENT_STALL_MS",
    "MAX_STALL_SHARE",
    "VERDICTS",
    "Assumption",
    "BaselineEvidence",
    "FaultRun",
    "Ratio",
    "SampleArrays",
    "breakdown",
    "client_stalls",
    "cp_upper",
    "exit_code",
    "fault_impact",
    "from_samples",
    "label",
    "latency_percentiles",
    "latency_shift",
    "longest_gap",
    "merge_spans",
    "outages",
    "overlapping",
    "permutation_p",
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
