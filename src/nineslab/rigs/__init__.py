"""Rigs: what both the tests and bench/ drive nineslab with — a kill -9 campaign, existing machines for
the hosts provider (SSH containers), a headless browser over the DevTools pipe, and a synthetic run
directory with a known outage. Nothing in nineslab itself imports them."""
