"""Chaos Toolkit extension: actions (inject/recover/heal), probes (the whole request path, etcd,
routes) and controls (Locust around the experiment, fault windows, run directory).
Experiments in chaos/experiments/*.json use it by module path; stock `chaos run` works."""
