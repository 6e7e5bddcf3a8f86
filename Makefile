# Logits Lab: `make lab` to learn, `make test` to check everything. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The install is redone only when the dependency files change.
DEPS_HASH := $(shell cat requirements.txt pyproject.toml | $(PYTHON) -c "import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:16])")
STAMP := $(VENV)/.installed-$(DEPS_HASH)
PORT ?= 8888
NB ?=
# JupyterLab refuses to run as root (containers, Binder-like machines) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

# Silent TensorFlow and the same printed digits everywhere (see logitlab/__init__.py).
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: lab test notebooks check install clean bench exercises grade

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c "import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v <= (3, 13) else \
	'Python %d.%d found at $(PYTHON): Logits Lab needs Python 3.10 to 3.13 (the versions TensorFlow 2.21 supports). \
	Install one and run: make lab PYTHON=python3.11' % v)"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) --ServerApp.root_dir=. \
		--LabApp.default_url=/lab/tree/notebooks/00-start-here.ipynb $(ALLOW_ROOT)

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadscope --nbval --nbval-sanitize-with tests/sanitize.cfg -q

notebooks: $(STAMP)
	$(PY) -m logitlab notebooks $(NB)

bench: $(STAMP)
	$(PY) -m logitlab bench

check: $(STAMP)
	$(PY) -m logitlab check

clean:
	rm -rf $(VENV)

# Generate exercises/ from solutions/ with nbgrader (edit the solutions, never the exercises).
exercises: $(STAMP)
	$(PY) -m logitlab exercises

# Grade a class, each submission in a bubblewrap sandbox: make grade SUBMISSIONS=path/to/submissions OUT=grading-out
# (GRADE_FLAGS="--timeout 60 --memory 3072", or "--no-sandbox" where no sandbox can be had; see README).
SUBMISSIONS ?= submissions
OUT ?= grading-out
GRADE_FLAGS ?=
grade: $(STAMP)
	$(PY) -m logitlab grade $(SUBMISSIONS) --out $(OUT) $(GRADE_FLAGS)
