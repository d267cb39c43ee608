# `make dry-run` and `make test` each create .venv (scripts/install.sh) when it is missing or stale.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install dry-run test test-fast lint format bench clean

$(STAMP): scripts/install.sh requirements.lock setup.cfg pyproject.toml
	scripts/install.sh $(VENV)
	touch $(STAMP)

install: $(STAMP)

dry-run: $(STAMP)
	$(VENV)/bin/skillseq run configs/dry_run.yaml
	$(VENV)/bin/skillseq show out -n 2

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

bench: $(STAMP)
	for b in benchmarks/*_bench.py; do $(PY) $$b --quick || exit 1; done

clean:
	rm -rf out out.partial .cache build dist *.egg-info
