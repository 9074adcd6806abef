# nineslab — every target depends on `setup` (idempotent: Debian packages + .venv with pinned deps).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
NINESLAB := $(VENV)/bin/nineslab
topology ?= 3dc
lab ?= nines
provider ?= netns
APT_PACKAGES := haproxy runit dnsmasq-base pdns-server pdns-backend-bind unbound keepalived curl iproute2 util-linux procps wrk nftables coreutils openssh-client
# The docker provider: Debian's engine (nineslab starts its own, never the system's) and debootstrap,
# which builds the hosts' image from the machine's own Debian mirror (no registry is ever used).
APT_PACKAGES += docker.io debootstrap e2fsprogs
# Only the test of the HTML report needs a browser (large): installed by `make test`, not by `make setup`.
APT_TEST_PACKAGES := chromium
export NINESLAB_LAB := $(lab)

# $(call apt_install,PACKAGES): install the Debian packages that are missing, nothing else. Their
# services (haproxy, pdns, unbound, keepalived) must not start on the machine: policy-rc.d says no.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing Debian packages:$$missing"; \
	  policy=/usr/sbin/policy-rc.d; own=""; \
	  if [ ! -e $$policy ]; then printf '#!/bin/sh\nexit 101\n' > $$policy; chmod +x $$policy; own=1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; rc=$$?; \
	  if [ -n "$$own" ]; then rm -f $$policy; fi; [ $$rc = 0 ]; \
	fi
endef

.PHONY: setup setup-test demo deploy status destroy faults chaos suite heal load report compare ledger routes serve test test-unit lint bench

setup: $(VENV)/.done

# pip --no-compile: Python compiles a module when it is first imported; compiling every installed file
# up front (plotly's thousands) took 18 of the install's 38 s.
$(VENV)/.done: pyproject.toml
	$(call apt_install,$(APT_PACKAGES))
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q --no-compile -e '.[dev]'
	touch $@

demo: setup  ## make demo topology=3dc [provider=docker] [keep=1]: deploy + chaos suite + SLA report (+ destroy unless keep=1)
	@rc=0; \
	$(NINESLAB) deploy --topology $(topology) --provider $(provider) --lab $(lab) || exit $$?; \
	$(NINESLAB) suite --lab $(lab) --processes $(or $(processes),1) || rc=$$?; \
	$(NINESLAB) report || rc=$$?; \
	if [ "$(keep)" != 1 ]; then $(NINESLAB) destroy --lab $(lab) || rc=$$?; fi; \
	echo "report: $$(readlink -f $${NINESLAB_REPORTS_DIR:-reports}/latest)/report.html"; \
	exit $$rc

deploy: setup  ## make deploy topology=1az|2az|3dc [provider=netns|docker] [lab=NAME]
	$(NINESLAB) deploy --topology $(topology) --provider $(provider) --lab $(lab)

status: setup
	$(NINESLAB) status --lab $(lab)

destroy: setup
	$(NINESLAB) destroy --lab $(lab)

faults: setup  ## the faults that apply to the deployed topology
	$(NINESLAB) faults --lab $(lab)

chaos: setup  ## make chaos experiment=zone-power-off
	@test -n "$(experiment)" || { echo "usage: make chaos experiment=NAME (see: make faults)" >&2; exit 2; }
	$(NINESLAB) chaos run $(experiment) --lab $(lab)

suite: setup  ## every applicable fault, in catalogue order, under one load [processes=2 | workers=N] [repeat=K]
	$(NINESLAB) suite --lab $(lab) --processes $(or $(processes),1) --workers $(or $(workers),0) --repeat $(or $(repeat),1)

heal: setup
	$(NINESLAB) heal --lab $(lab)

load: setup  ## make load duration=60 rate=500 [workers=N]
	$(NINESLAB) load --lab $(lab) --duration $(or $(duration),60) --rate $(or $(rate),200) --workers $(or $(workers),0)

report: setup  ## SLA report of the latest run (run=RUN for another); exit 0 only for a proven PASS
	$(NINESLAB) report $(run)

compare: setup  ## the suite on 1az, 2az and 3dc, side by side (takes about 32 min) [processes=2]
	$(NINESLAB) compare --processes $(or $(processes),1)

ledger: setup  ## what each escape mechanism buys on the deployed lab (on vs off; about 25 min for 2az)
	$(NINESLAB) ledger --lab $(lab) --processes $(or $(processes),1)

routes: setup  ## make routes file=FILE: push a route change through a canary gateway (auto rollback)
	@test -n "$(file)" || { echo "usage: make routes file=ROUTES.yaml (see README: Route changes)" >&2; exit 2; }
	$(NINESLAB) routes push $(file) --lab $(lab)

serve: setup  ## make serve [port=8080]: reports/ and its index of every run on 127.0.0.1
	$(NINESLAB) serve --port $(or $(port),8080)

setup-test: setup  ## setup + what only the tests need (Debian chromium, for the HTML report test)
	$(call apt_install,$(APT_TEST_PACKAGES))

# Unit tests on both cores (pure, no lab: 52 -> 31 s); the browser and integration tests one at a time
# (two labs on two cores measure each other).
test: setup-test  ## unit + integration tests (integration needs root); "no tests ran" (exit 5) fails
	@for part in "-n 2 tests/unit" "--durations=30 tests/browser tests/integration"; do \
	  $(VENV)/bin/pytest -q $$part; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "test: pytest collected no tests in $${part##* }" >&2; exit 1; fi; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	done

test-unit: setup
	$(VENV)/bin/pytest -q -n 2 tests/unit

lint: setup  ## ruff, mypy (strict), ansible-lint (offline), terraform fmt
	$(VENV)/bin/ruff check src tests bench loadtests playbooks tools
	$(VENV)/bin/mypy
	cd playbooks && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" ansible-lint --offline -q
	$(VENV)/bin/python tools/terraform_fmt.py

bench: setup  ## deploy/destroy wall time per topology; Locust vs wrk on the same path
	$(VENV)/bin/python bench/deploy.py
	$(VENV)/bin/python bench/load.py
	$(VENV)/bin/python bench/analysis.py
	$(VENV)/bin/python bench/calibration.py
	$(VENV)/bin/python bench/report_open.py
