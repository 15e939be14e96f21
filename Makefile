# Two commands set everything up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9

export PYTHONPATH := $(CURDIR)/plugins
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
# This machine sets PYTHONDONTWRITEBYTECODE; without compiled bytecode `import airflow` is 3x slower.
export UV_COMPILE_BYTECODE := 1

.PHONY: venv demo run test test-fast bench ui clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install -q --python $(PY) -r requirements.txt
	touch $@

venv: $(VENV)/.installed

## Run the whole pipeline once against the bundled GitHub emulator; print the marts.
demo: venv
	$(PY) -m pr_warehouse.cli demo

## Run against real GitHub: GITHUB_TOKEN=... make run REPOS="owner/name other/repo"
run: venv
	$(PY) -m pr_warehouse.cli run --repos $(REPOS) $(if $(ORGS),--orgs $(ORGS)) $(if $(PROJECT),--project $(PROJECT))

## The test suite (what CI runs).
test: venv
	$(VENV)/bin/pytest

## Benchmarks: print figures, never assert on time.
bench: venv
	$(PY) -m bench

## The Airflow UI on http://127.0.0.1:8080 (low parallelism: the default spawns ~60 processes).
ui: venv
	AIRFLOW__CORE__PARALLELISM=4 AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True \
	  $(VENV)/bin/airflow standalone

clean:
	rm -rf data .airflow dbt/target dbt/logs
