# raftlab: every command a student, an instructor or CI needs.
# Needs only python3 (>= 3.10) and make; everything else goes into .venv.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# `make lab` settings (override on the command line: make lab LAB_PORT=9999 LAB_IP=0.0.0.0)
LAB_IP   ?= 127.0.0.1
LAB_PORT ?= 8888

# `make test`: unit tests, browser tests (tests/) and nbval on every lesson (notebooks/), in one run.
# xdist's loadscope keeps each notebook's cells on one worker, in order, and each test module on one worker.
PYTEST_FLAGS ?= -q -ra -n auto --dist loadscope
NBVAL_FLAGS  := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.DEFAULT_GOAL := help
.PHONY: help venv lint test lab bench bench-compare mutants experiment clean distclean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

venv: $(STAMP) ## create .venv and install raftlab with its test tools (again only when pyproject.toml changes)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@# Build matplotlib's font cache now, so its one-time notice never lands in a notebook's stderr.
	$(PY) -c 'import matplotlib.font_manager'
	touch $@

lint: venv ## ruff (lint, import order) and mypy (types) on raftlab/
	$(PY) -m ruff check raftlab
	$(PY) -m mypy

test: venv lint ## run every test: lint and types, engine, browser (JupyterLab in Chromium), nbval on notebooks/
	$(PY) -m pytest $(PYTEST_FLAGS) $(NBVAL_FLAGS) tests notebooks

lab: venv ## start JupyterLab (no browser opened) and print the URL to open
	@token="$${LAB_TOKEN:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(24))')}"; \
	root_flag=""; if [ "$$(id -u)" = 0 ]; then root_flag="--allow-root"; fi; \
	echo ""; \
	echo "  JupyterLab is starting. Open this URL in your browser (the lessons are in notebooks/):"; \
	echo ""; \
	echo "      http://$(LAB_IP):$(LAB_PORT)/lab/tree/notebooks?token=$$token"; \
	echo ""; \
	echo "  Stop it with Ctrl-C twice."; \
	echo ""; \
	JUPYTER_TOKEN="$$token" exec $(VENV)/bin/jupyter lab --no-browser $$root_flag \
		--ip=$(LAB_IP) --port=$(LAB_PORT) --ServerApp.port_retries=0 \
		--ServerApp.root_dir="$(CURDIR)" \
		--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate

BENCHES := bench/engine.py bench/linearizability.py bench/explore.py bench/membership.py bench/mutants.py bench/viz.py bench/check.py bench/grade.py bench/lessons.py

bench: venv ## print the speed figures: engine, views, autograder, class grading, lessons
	@for b in $(BENCHES); do \
		if [ -f $$b ]; then echo ""; echo "### $$b"; $(PY) $$b || exit 1; fi; \
	done

bench-compare: venv ## the engine's speed before (REV=git revision) and after, in one run: make bench-compare REV=a049663
	$(PY) bench/compare.py $(REV)

mutants: venv ## mutation testing (mutmut): each exercise's reference functions against its graded tests, survivors listed
	$(PY) bench/mutants.py

experiment: venv ## the Raft paper's election experiment (section 9.3, Figure 16): 1,000 trials per range
	$(PY) tools/election_experiment.py

clean: ## remove test artifacts and caches (keeps .venv)
	rm -rf test-artifacts .pytest_cache .hypothesis build dist *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 \
		| xargs -0 rm -rf

distclean: clean ## also remove .venv
	rm -rf $(VENV)
