"""The hosts provider: an estate on machines that already exist, reached over SSH (Ansible's own
connection). nineslab neither creates nor destroys these machines; it installs onto them and removes
what it installed."""
