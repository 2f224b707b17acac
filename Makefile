# Quickstart: `make run` (dashboard on http://127.0.0.1:8501) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR)

# verl pins versions that differ from ours (e.g. transformers < 5.11), so its plug-in test gets its own venv,
# created on demand and cached: the stamp's name changes with the pins. torch first, so pip takes the CPU wheel.
VERL_VENV := .venv-verl
VERL_PINS := torch==2.13.0 verl==0.9.1
VERL_STAMP := $(VERL_VENV)/.installed-$(shell echo '$(VERL_PINS)' | md5sum | cut -c1-12)

.PHONY: install run test lint browser-deps verl-venv

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/streamlit run app/streamlit_app.py --server.address 127.0.0.1 --server.port 8501 \
		--server.headless true --browser.gatherUsageStats false

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
		{ [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		{ echo "Chromium is missing: run 'sudo apt-get install chromium' (the browser tests need /usr/bin/chromium)"; exit 1; }

# The editable install registers the `verl.plugins` entry point of pyproject.toml.
$(VERL_STAMP): pyproject.toml
	@echo "verl venv: creating $(VERL_VENV) ($(VERL_PINS); a few minutes and ~2 GB the first time, cached after)"
	test -x $(VERL_VENV)/bin/python || $(PYTHON) -m venv $(VERL_VENV)
	$(VERL_VENV)/bin/pip install -q $(word 1,$(VERL_PINS))
	$(VERL_VENV)/bin/pip install -q $(VERL_PINS)
	$(VERL_VENV)/bin/pip install -q --no-deps --no-build-isolation -e .
	rm -f $(VERL_VENV)/.installed-*
	touch $@

verl-venv: $(VERL_STAMP)

test: install browser-deps lint verl-venv
	$(BIN)/python -m pytest
