"""Security of the estate: what keeps the control plane and the admin surfaces off the data path."""
