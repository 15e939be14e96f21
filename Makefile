# Two commands set everything up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
CHROMIUM ?= /usr/bin/chromium
PYTEST_ARGS ?=
# pytest-xdist workers: each is its own process with its own Airflow home and metadata DB
# (tests/conftest.py), so no Airflow state is shared; whole files go to one worker so a
# module's fixtures (a dbt build, a pipeline run) are set up once. One worker more than
# the cores: a worker spends part of its time waiting (on Airflow components, a browser,
# the emulator's modelled latency), which the extra one fills (on 2 cores: idle CPU 218
# -> 36 core-s, 627-645 s -> 573-596 s).
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# This machine sets PYTHONDONTWRITEBYTECODE; without compiled bytecode `import airflow` is 3x slower.
export UV_COMPILE_BYTECODE := 1

.PHONY: venv demo run sql report test chromium test-fast bench ui clean

# The lock first, then the product and the emulator as editable packages:
# --no-deps because the lock already holds every dependency, --no-build-isolation because
# the lock's setuptools builds them (nothing more to download).
$(VENV)/.installed: requirements.txt pyproject.toml github_emulator/pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install -q --python $(PY) -r requirements.txt
	$(VENV)/bin/uv pip install -q --python $(PY) --no-deps --no-build-isolation \
	  -e . -e ./github_emulator
	touch $@

venv: $(VENV)/.installed

## Run the whole pipeline once against the bundled GitHub emulator; print the marts.
demo: venv
	$(VENV)/bin/pr-warehouse demo

## Run against real GitHub: GITHUB_TOKEN=... make run REPOS="owner/name other/repo"
run: venv
	$(VENV)/bin/pr-warehouse run $(if $(REPOS),--repos $(REPOS)) $(if $(ORGS),--orgs $(ORGS)) \
	  $(if $(PROJECT),--project $(PROJECT))

## Query the analysts' snapshot: make sql Q="select * from analytics.mart_assignee_workload"
sql: venv
	$(VENV)/bin/pr-warehouse sql "$(Q)"

## The charts of the PR analytics page as one self-contained HTML file, from the snapshot.
report: venv
	$(VENV)/bin/pr-warehouse report

## The test suite (what CI runs). Also sets up what some tests need from the system:
## a throwaway PostgreSQL on loopback (scripts/postgres.sh: Airflow's metadata DB and the
## BI publish target; stopped afterwards) and Debian's chromium for the browser test; both
## are apt-get installed when missing. PYTEST_ARGS="-m 'not slow'" etc. narrows the run.
test: venv chromium
	@set -uo pipefail; \
	dsn="$$(bash scripts/postgres.sh start)" || { echo "make test: PostgreSQL did not start;" \
	  "its tests will be skipped (see the reason in pytest's summary)" >&2; dsn=""; }; \
	tmp="$$(bash scripts/test_tmpdir.sh)"; \
	started=$$(date +%s); \
	status=0; TMPDIR="$$tmp" PR_WAREHOUSE_TEST_PG_DSN="$$dsn" $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=10 --basetemp="$$tmp/pytest" $(PYTEST_ARGS) || status=$$?; \
	bash scripts/postgres.sh stop || true; \
	if [ $$status = 0 ]; then rm -rf "$$tmp"; else echo "make test: the tests' files are kept in $$tmp"; fi; \
	echo "make test: $$(( $$(date +%s) - started )) s wall (the ten slowest tests are listed above)"; \
	exit $$status

## Debian's chromium, driven by Playwright in the browser test (it cannot download its own).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make: installing Debian's chromium for the browser test"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    { apt-get update -q && apt-get install -y -q chromium; } >/dev/null \
	      || echo "make: could not install chromium; the browser test will be skipped" >&2; \
	  else \
	    echo "make: $(CHROMIUM) missing (needs root + apt-get); the browser test will be skipped" >&2; \
	  fi; \
	fi

## Benchmarks: print figures, never assert on time.
bench: venv
	$(PY) -m bench

## The Airflow UI on http://127.0.0.1:8080 (low parallelism: the default spawns ~60 processes).
## The extracts run in a pool (`pr-warehouse pool` creates it): a real scheduler never runs a task whose pool is missing.
ui: venv
	$(VENV)/bin/airflow db migrate >/dev/null
	$(VENV)/bin/pr-warehouse pool
	AIRFLOW__CORE__PARALLELISM=4 AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True \
	  $(VENV)/bin/airflow standalone

clean:
	rm -rf data .airflow dbt/target dbt/logs
