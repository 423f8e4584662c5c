# The two commands: `make demo` and `make test`. Each creates .venv when missing and
# installs the project into it; nothing else is needed on a fresh machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

# As root, the EPICS C libraries give their threads real-time priority and softioc locks
# all its memory; run tests and benches as a normal user would (no CAP_SYS_NICE/IPC_LOCK).
NORT := $(shell [ "$$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 && \
          echo "setpriv --inh-caps -sys_nice,-ipc_lock --bounding-set -sys_nice,-ipc_lock")

# The demo stays on this machine: searches and servers on loopback only (the CA
# server beacons to loopback by itself when it serves on loopback only). CA searches
# go to loopback's broadcast address, where every CA server of this host hears them
# (ADR "found without setup, many servers per host").
LOOPBACK := EPICS_CA_AUTO_ADDR_LIST=NO EPICS_CA_ADDR_LIST=127.255.255.255 \
            EPICS_CAS_INTF_ADDR_LIST=127.0.0.1 EPICS_PVA_AUTO_ADDR_LIST=NO \
            EPICS_PVA_ADDR_LIST=127.0.0.1 EPICS_PVAS_INTF_ADDR_LIST=127.0.0.1

.PHONY: demo test compat mariadb bench bench-tango bench-pva bench-devices bench-widgets bench-scans bench-scale bench-serve install chromium postgres tango-test tmux clean

# The browser test drives Debian's headless Chromium with Playwright (no browser
# download); installed with apt when missing (as root, or through sudo).
CHROMIUM := /usr/bin/chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# also installs the `ctlshell` Jupyter kernel into the venv (jupyter finds it there).
# `env` runs the shell with no /bin/sh in between: a Ctrl-C in the session killed that
# sh, and make reported "*** [demo] Interrupt" on leaving
demo: $(STAMP)
	$(BIN)/ctlshell kernelspec
	env $(LOOPBACK) $(BIN)/ctlshell --profile demo

# the NeXus DB-source tests start their own PostgreSQL cluster from Debian's binaries;
# installed here when missing (as root with apt-get), else those tests say why they skip
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } || \
	    echo "make: PostgreSQL not installed (apt-get install -y postgresql); its tests will be skipped"; }

# Debian's C++ TangoTest device server (sys/tg_test/1) is a test device of the suite
# (ctlshell.testing.TangoTestServer); installed here when missing, else its tests skip
tango-test:
	@test -x /usr/lib/tango/TangoTest || command -v TangoTest >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq tango-test >/dev/null; } || \
	    echo "make: TangoTest not installed (apt-get install -y tango-test); its tests will be skipped"; }

# the terminal test of monitor output above the prompt reads the screen tmux renders;
# installed here when missing (as root with apt-get), else that test says why it skips
tmux:
	@command -v tmux >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { apt-get -o DPkg::Lock::Timeout=900 update -qq && \
	      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq tmux >/dev/null; } || \
	    echo "make: tmux not installed (apt-get install -y tmux); its terminal test will be skipped"; }

# MariaDB for the DB source's MYSQL dbtype (tests/integration/test_nexus_mysql.py starts its own server)
mariadb:
	@command -v mariadb-install-db >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { apt-get -o DPkg::Lock::Timeout=900 update -qq && \
	      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq mariadb-server >/dev/null; } || \
	    echo "make: MariaDB not installed (apt-get install -y mariadb-server); its tests will be skipped"; }


$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium

chromium: $(CHROMIUM)

test: $(STAMP) $(CHROMIUM) postgres mariadb tango-test tmux
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory docs
	$(NORT) $(BIN)/python -m pytest
	$(NORT) $(BIN)/python tests/compat/run_suite.py --expect tests/compat/known_gaps.txt

# nxswriter 3.25.0's own server-driving tests against ctlshell's writer and the real
# NXSDataWriter (issue 15); sdist cached in ~/.cache/ctlshell-compat; runs in a network
# namespace holding only loopback (the suite's XML names localhost:10000)
compat: $(STAMP)
	$(NORT) $(BIN)/python tests/compat/run_suite.py

# issue 21: ruff (check only: no formatter, no import sorting) and mypy (strict on core/ and
# api/), configured in pyproject.toml; any finding fails, and so fails make test, which runs it first
.PHONY: lint
lint: $(STAMP)
	$(BIN)/ruff check ctlshell tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(NORT) $(BIN)/python bench/bench_ca.py
	$(NORT) $(BIN)/python bench/bench_startup.py
	$(NORT) $(BIN)/python bench/bench_nexus.py

bench-widgets: $(STAMP)
	$(NORT) $(BIN)/python bench/bench_widgets.py

bench-tango: $(STAMP) tango-test
	$(NORT) $(BIN)/python bench/bench_tango.py

bench-pva: $(STAMP)
	$(NORT) $(BIN)/python bench/bench_pva.py --reps 3

# issue 18: 1 000 / 5 000 / 10 000 PVs (N=... to choose, e.g. make bench-scale N="1000 5000")
bench-scale: $(STAMP)
	$(NORT) $(BIN)/python bench/bench_scale.py $(if $(N),--n $(N))

# issue 19: 10 000 hosted PVs at 1 Hz, 20 CA clients monitoring all (N=..., CLIENTS=...)
bench-serve: $(STAMP)
	$(NORT) $(BIN)/python bench/bench_serve.py $(if $(N),--n $(N)) $(if $(CLIENTS),--clients $(CLIENTS))

bench-devices: $(STAMP)
	$(NORT) $(BIN)/python bench/bench_devices.py

bench-scans: $(STAMP)
	$(NORT) $(BIN)/python bench/bench_scans.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
	rm -rf .mypy_cache .ruff_cache
	rm -rf docs/_build

# issue 21, acceptance 1: the suite (or STRESS_TESTS="tests/unit/test_poller.py ...")
# with two CPU-burning processes beside it, started and stopped by PID (tests/stress.py)
.PHONY: test-stress
STRESS_TESTS ?=
test-stress: $(STAMP) $(CHROMIUM) postgres mariadb tango-test tmux
	$(NORT) $(BIN)/python -m tests.stress -n 2 -- $(BIN)/python -m pytest $(STRESS_TESTS)

# issue 21: the Sphinx site (docs/, MyST pages, API reference from the numpydoc docstrings)
# into docs/_build/html; any warning fails it, and so fails make test, which runs it after lint
.PHONY: docs
docs: $(STAMP)
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html
