"""The Chaos Toolkit adapter: actions (inject/recover a catalogue fault), probes (a real request through
the whole path) and controls (Locust around a stock experiment, its run directory, heal at its end),
each with `__all__`; the experiment files and their checks (experiments); and one experiment run
in-process through chaostoolkit-lib (inprocess), as `nineslab.orchestration` runs every fault.
Experiments in chaos/experiments/*.json use it by module path; stock `chaos run` works."""
