# The loop while working: `make fast` (the fast tier, about 20 s), `make lint`, `make fix`.
# `make test` runs the whole suite (12+ minutes; what CI runs). tests/README.md has the tiers.
PYTHON ?= $(if $(wildcard .venv/bin/python),.venv/bin/python,python3)

.PHONY: fast test lint fix

fast:
	$(PYTHON) -m pytest -m "not integration" -q

test:
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

fix:
	$(PYTHON) -m ruff check --fix .
	$(PYTHON) -m ruff format .
