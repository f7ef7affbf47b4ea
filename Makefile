# shoplake: `make demo` and `make test` do all the set-up on a fresh Debian machine.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STATE  := .shoplake
EXTRAS ?= serving,lake,dev,ml,notebooks,gold
PYTEST_ARGS ?=
comma := ,

# apt-get as root, through sudo otherwise; a clear message when neither is possible.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] && echo "" || (command -v sudo >/dev/null && echo sudo -n) || echo NOSUDO)

.PHONY: help setup system-packages service-user venv airflow mlflow jvm stripe-mock mailpit bombardier stack-up stack-down status demo test test-unit bench lint clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

setup: system-packages service-user venv jvm airflow mlflow  ## install whatever is missing (quick when nothing changed)

system-packages:  ## Debian packages: PostgreSQL server, Redis, a JDK, Maven, the labels' font, Chromium (dashboard shots)
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	command -v setpriv >/dev/null || missing="$$missing util-linux"; \
	ls /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 /usr/lib/*/openblas-pthread/libblas.so.3 >/dev/null 2>&1 || missing="$$missing libopenblas0-pthread"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing="$$missing fonts-dejavu-core"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$(SUDO)" = "NOSUDO" ]; then \
	    echo "error: missing Debian packages:$$missing. Install them as root (apt-get install$$missing) or give this user sudo." >&2; exit 1; \
	  fi; \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  if [[ " $$missing " == *" postgresql "* ]] && command -v systemctl >/dev/null; then $(SUDO) systemctl disable --now postgresql >/dev/null 2>&1 || true; fi; \
	fi

service-user:  ## when run as root: the unprivileged user that runs Postgres and Elasticsearch
	@if [ "$$(id -u)" -eq 0 ] && ! id shoplake >/dev/null 2>&1; then \
	  useradd --system --no-create-home --shell /usr/sbin/nologin shoplake && echo "created service user shoplake"; \
	fi

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Reinstall only when the dependencies change.
$(VENV)/.installed-$(subst $(comma),-,$(EXTRAS)): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[$(EXTRAS)]'
	@rm -f $(VENV)/.installed-*; touch $@

venv: $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))  ## the Python environment in .venv

# Airflow 3 caps fastapi below what serving uses: it gets a venv of its own (ARCHITECTURE.md).
AIRFLOW_VENV := .venv-airflow
$(AIRFLOW_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install -q --upgrade pip
	$(AIRFLOW_VENV)/bin/pip install -q -e '.[lake,airflow]'
	@touch $@

airflow: $(AIRFLOW_VENV)/.installed  ## the Airflow 3 environment in .venv-airflow

# The MLflow tracking server needs Flask, gunicorn and sqlalchemy 2.1, none of which the project
# wants: it gets a venv of its own with nothing of the project in it (ARCHITECTURE.md, "MLflow").
MLFLOW_VENV := .venv-mlflow
MLFLOW_VERSION := 3.17.2
$(MLFLOW_VENV)/.installed-$(MLFLOW_VERSION):
	$(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/pip install -q --upgrade pip
	MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true $(MLFLOW_VENV)/bin/pip install -q 'mlflow==$(MLFLOW_VERSION)' 'psycopg[binary]>=3.2,<4'
	@rm -f $(MLFLOW_VENV)/.installed-*; touch $@

mlflow: $(MLFLOW_VENV)/.installed-$(MLFLOW_VERSION)  ## the MLflow tracking server in .venv-mlflow

$(STATE)/jvm/.fetched: infra/jvm/pom.xml infra/jvm/kafka/pom.xml infra/jvm/spark/pom.xml infra/jvm/elasticsearch/pom.xml
	@echo "fetching JVM artifacts (Kafka, Delta, Spark Kafka source, Elasticsearch) into $(STATE)/jvm"
	rm -rf $(STATE)/jvm/kafka $(STATE)/jvm/spark $(STATE)/jvm/elasticsearch
	mvn -q -B -f infra/jvm/pom.xml package
	@touch $@

jvm: $(STATE)/jvm/.fetched  ## JVM artifacts copied by Maven into .shoplake/jvm

# stripe-mock (Stripe's API simulator) for the Stripe adapter's tests: one Go binary, built once
# through the Go module proxy (under a second with a warm module cache, ~30 s without). Not part
# of `setup`, which needs no Go (`make demo` does not use it); `make test` builds it.
STRIPE_MOCK_VERSION := v0.203.0
$(STATE)/bin/stripe-mock:
	@command -v go >/dev/null || { echo "error: Go is needed to build stripe-mock (apt-get install golang-go)" >&2; exit 1; }
	GOBIN=$(abspath $(STATE))/bin go install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

stripe-mock: $(STATE)/bin/stripe-mock  ## stripe-mock into .shoplake/bin for the Stripe adapter's tests

# Mailpit (an SMTP server with an HTTP API) receives the notifications' e-mail on the local stack.
# The Go module proxy serves no web UI assets (they are built with npm for releases), so the UI
# page is an empty shell; the API, SMTP and health endpoints are complete. The -X flag gives the
# binary its version (a plain `go install` says "dev"). Go >= 1.26: mailpit's go.mod asks for it.
MAILPIT_VERSION := v1.33.1
$(STATE)/bin/mailpit:
	@command -v go >/dev/null || { echo "error: Go >= 1.26 is needed to build mailpit (https://go.dev/dl/)" >&2; exit 1; }
	GOBIN=$(abspath $(STATE))/bin go install \
	  -ldflags="-s -w -X github.com/axllent/mailpit/config.Version=$(MAILPIT_VERSION)" \
	  github.com/axllent/mailpit@$(MAILPIT_VERSION)

mailpit: $(STATE)/bin/mailpit  ## Mailpit into .shoplake/bin: the stack's SMTP server for notifications

# bombardier (an HTTP load generator in Go) loads the API and its floor in benchmarks.api_floor:
# a Python client would take a good share of the 2 cores it measures.
BOMBARDIER_VERSION := v1.2.6
$(STATE)/bin/bombardier:
	@command -v go >/dev/null || { echo "error: Go is needed to build bombardier" >&2; exit 1; }
	GOBIN=$(abspath $(STATE))/bin go install github.com/codesenberg/bombardier@$(BOMBARDIER_VERSION)

bombardier: $(STATE)/bin/bombardier  ## bombardier into .shoplake/bin for the API benchmarks

stack-up: setup mailpit  ## start Kafka, Elasticsearch, PostgreSQL, Redis and migrate the database
	$(BIN)/shoplake stack up

stack-down:  ## stop the local stack
	$(BIN)/shoplake stack down

status:  ## state, port, pid and version of each service
	$(BIN)/shoplake stack status

demo: stack-up  ## the main job: a timed round trip through every component
	$(BIN)/shoplake demo

# The 30 slowest tests close the log: the suite's budget is 40 minutes, and this is where it goes.
test: stack-up stripe-mock  ## the whole suite against the real stack
	$(BIN)/pytest --durations=30 $(PYTEST_ARGS)

test-unit: venv  ## the tests that need no service
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

BENCH_ARGS ?=
bench: stack-up bombardier  ## every benchmark, one table, benchmarks/results/summary.json (BENCH_ARGS=--quick)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lint: venv  ## ruff, mypy, the house rules (import-linter contracts in pyproject.toml), sqlfluff on dbt
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	# The models and singular tests, offline (dbt/.sqlfluff: the jinja templater, sparksql).
	cd dbt && ../$(BIN)/sqlfluff lint models tests

clean:  ## remove the venv and all local state (data of every service included)
	-$(BIN)/shoplake stack down
	rm -rf $(VENV) $(AIRFLOW_VENV) $(STATE)
