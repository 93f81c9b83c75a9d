# Two commands a new user needs: `make demo` and `make test`. Both create .venv if missing.
# `make test` is the quick suite (a few minutes on 2 cores); `make test-slow` runs the end-to-end
# tests marked `slow` (demo, hostile flow, worker-count determinism, ...). CI (.ci/run) runs both.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.palmkit-installed
DEMO_OUT ?= out/demo

.PHONY: setup test test-slow demo clean lock worker-package chromium

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "palmkit needs Python 3.11, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q pip==26.3  # pinned, like everything in requirements.lock
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[dev,train,lid]'
	touch $(STAMP)

test: setup chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m "not slow" tests

test-slow: setup chromium
	$(BIN)/python -m pytest -n 2 --dist loadfile -q -m slow tests

# Headless Chromium for tests/test_browser_report.py (Debian's package), installed where it is
# missing and apt-get can; never fails the build (the test then skips, saying why).
chromium:
	@command -v chromium >/dev/null 2>&1 || (command -v apt-get >/dev/null 2>&1 && \
	  (apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium)) \
	  >/dev/null 2>&1) || echo "chromium not installed: tests/test_browser_report.py will skip"

demo: setup
	$(BIN)/palmkit demo --output $(DEMO_OUT)

# Re-pin every transitive dependency from the current .venv (after changing pyproject.toml), and
# the Beam workers' subset: the dependency closure of palmkit's base dependencies (no `train`
# extra: no JAX/Flax/orbax), derived from the installed packages' metadata by
# tests/test_staging.py, which also checks that the file is up to date (docs/dataflow.md).
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^palmkit' > requirements.lock
	$(BIN)/python tests/test_staging.py > requirements-workers.lock

# The package shipped to Beam workers: palmkit-<version>.tar.gz in dist/ (pass it with
# --extra_package; docs/dataflow.md). setuptools' PEP 517 hook, so neither `build` nor network.
worker-package:
	$(BIN)/python -c 'from setuptools import build_meta as b; print("dist/" + b.build_sdist("dist"))'

clean:
	rm -rf $(VENV) out .pytest_cache
