"""Locust as a subprocess in the lab's client namespace (importing locust inside `chaos run` crashes:
gevent vs ssl), and the sample files its recorder writes."""

from nineslab.load.runner import LoadRun, kill_leftover
from nineslab.load.samples import Sample, read_samples

__all__ = ["LoadRun", "Sample", "kill_leftover", "read_samples"]
