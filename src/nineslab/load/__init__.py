"""Locust as a subprocess in the lab's client namespace (importing locust inside `chaos run` crashes:
gevent vs ssl), and the sample files its recorder writes."""

from nineslab.load.runner import LOAD_PIDFILE, LoadClient, LoadRun
from nineslab.load.samples import Sample, read_samples

__all__ = ["LOAD_PIDFILE", "LoadClient", "LoadRun", "Sample", "read_samples"]
