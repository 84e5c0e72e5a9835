# Two commands from a fresh clone: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast test-ui bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tandem demo

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

# The web UI in Debian's Chromium (apt-get install chromium; Playwright never downloads a browser).
test-ui: $(STAMP)
	$(BIN)/python -m pytest tests/ui -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x

bench: $(STAMP)
	$(BIN)/python benchmarks/store.py
	$(BIN)/python benchmarks/emulator.py
	$(BIN)/python benchmarks/like.py
	$(BIN)/python benchmarks/sync.py
	$(BIN)/python benchmarks/actions.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/concurrency.py
	$(BIN)/python benchmarks/chaos.py --runs 20
	$(BIN)/python benchmarks/ui.py

clean:
	rm -rf $(VENV) .pytest_cache tandem.db
