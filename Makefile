# Two entry points (see README): `make run` and `make test`. Everything installs into $(VENV).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
PLUGINS := $(wildcard plugins/*/pyproject.toml)

.PHONY: run test install lint typecheck clean

$(VENV)/.installed: pyproject.toml $(PLUGINS)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,postgres,mariadb]' $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/sebframe serve

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check sebframe tests plugins bench

typecheck: install  # configured in pyproject.toml: strict for the plugin contract and the SEB client hot path
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache
