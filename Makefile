# Two commands a new user needs: `make demo` and `make test`. Both create .venv if missing.
# `make test` is the quick suite (a few minutes on 2 cores); `make test-slow` runs the end-to-end
# tests marked `slow` (demo, hostile flow, worker-count determinism, ...). CI (.ci/run) runs both.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.palmkit-installed
DEMO_OUT ?= out/demo

.PHONY: setup test test-slow demo clean lock

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "palmkit needs Python 3.11, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q pip==26.3  # pinned, like everything in requirements.lock
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev]'
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m "not slow" tests

test-slow: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m slow tests

demo: setup
	$(BIN)/palmkit demo --output $(DEMO_OUT)

# Re-pin every transitive dependency from the current .venv (after changing pyproject.toml).
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^palmkit' > requirements.lock

clean:
	rm -rf $(VENV) out .pytest_cache
