"""Orchestration: a run from start to report — one experiment or a suite under one load (runner), its
plan (sizing), its stop condition (stop), the calibration of the measurement, and the ledger of what
each escape mechanism buys. Faults are run as Chaos Toolkit experiments through `nineslab.chaos`."""
