"""Configure services on the provider's hosts: inventory from Terraform outputs, then site.yml."""

from nineslab.deploy.ansible import PlaybookResult, run_playbook
from nineslab.deploy.inventory import build_inventory

__all__ = ["PlaybookResult", "build_inventory", "run_playbook"]
