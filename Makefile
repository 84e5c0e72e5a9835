# Two commands from a fresh clone: `make demo` and `make test`. Both build .venv on first use:
# `make demo` installs what Tandem runs on, `make test` adds the test tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev

.PHONY: demo test test-fast test-ui bench clean venv

venv: $(DEV)

$(RUNTIME): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(PIP) -e '.[dev]'
	touch $(DEV)

demo: $(RUNTIME)
	$(BIN)/tandem demo

test: $(DEV)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

# The web UI in Debian's Chromium (apt-get install chromium; Playwright never downloads a browser).
test-ui: $(DEV)
	$(BIN)/python -m pytest tests/ui -q

test-fast: $(DEV)
	$(BIN)/python -m pytest -q -x

bench: $(DEV)
	$(BIN)/python benchmarks/store.py
	$(BIN)/python benchmarks/emulator.py
	$(BIN)/python benchmarks/like.py
	$(BIN)/python benchmarks/sync.py
	$(BIN)/python benchmarks/actions.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/concurrency.py
	$(BIN)/python benchmarks/chaos.py --runs 20
	$(BIN)/python benchmarks/budget.py
	$(BIN)/python benchmarks/ui.py

clean:
	rm -rf $(VENV) .pytest_cache tandem.db
