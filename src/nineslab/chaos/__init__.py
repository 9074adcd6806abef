"""Chaos Toolkit extension: actions (inject/recover a catalogue fault), probes (a real request through
the whole path) and controls (Locust around the experiment, the run directory, heal at the end), each
with `__all__`; the runner behind `nineslab chaos run`, `suite`, `compare` and `calibrate`.
Experiments in chaos/experiments/*.json use it by module path; stock `chaos run` works."""
