"""nineslab: prove the availability tier of an API-gateway estate by measurement under real faults."""

__version__ = "0.1.0"
