# Logits Lab: `make lab` to learn, `make test` to check everything. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The install is redone when the dependency files change, or when PYTHON=... names another Python than
# the one in .venv (`make test PYTHON=python3.13` after a 3.11 install rebuilds .venv with 3.13).
DEPS_HASH := $(shell cat requirements.txt pyproject.toml | cksum | cut -d " " -f 1)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
PYTHON_FOUND := $(shell command -v $(PYTHON) 2>/dev/null)
ifeq ($(origin PYTHON),command line)
ifneq ($(shell $(PYTHON) -c "import sys; print(sys.version)" 2>/dev/null),$(shell $(PY) -c "import sys; print(sys.version)" 2>/dev/null))
$(STAMP): FORCE
endif
endif
PORT ?= 8888
NB ?=
# JupyterLab refuses to run as root (containers, Binder-like machines) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

# TensorFlow's quiet, oneDNN-off settings are set in one place, logitlab/__init__.py: every lesson, command and
# test process imports logitlab before TensorFlow, and the kernels and children they start inherit them.
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: lab lecture update instructor test test-fast lint notebooks check install clean bench exercises grade slides book translate FORCE

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(if $(PYTHON_FOUND),true,echo "There is no Python at PYTHON=$(PYTHON): Logits Lab needs Python 3.10 to 3.13. \
	Install one, or point at one you have, e.g. make test PYTHON=python3.11 or PYTHON=/usr/bin/python3.12" >&2; exit 1)
	@$(PYTHON) -c "import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v <= (3, 13) else \
	'Python %d.%d found at $(PYTHON): Logits Lab needs Python 3.10 to 3.13 (the versions TensorFlow 2.21 supports). \
	Install one and run: make lab PYTHON=python3.11' % v)"
	@echo "Setting up Logits Lab's Python environment in $(VENV) (once; about 2.2 GB and a few minutes, most of it downloading)"
	@echo "[1/4] Creating $(VENV) with $$($(PYTHON) -c 'import sys; print("Python", sys.version.split()[0])')"
	@rm -rf $(VENV)
	@$(PYTHON) -m venv $(VENV)
	@echo "[2/4] Updating pip"
	@$(PY) -m pip install --quiet --upgrade pip
	@echo "[3/4] Downloading and installing TensorFlow, JupyterLab and the rest of requirements.txt (pip shows its progress)"
	@$(PY) -m pip install --disable-pip-version-check -r requirements.txt
	@echo "[4/4] Installing the course's helper package (logitlab)"
	@# setuptools' note on editable installs is for package authors, not for learners.
	@PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)
	@echo "Environment ready."

# The learner's own copy of the lessons and exercises (git-ignored; made by the first `make lab`, see
# logitlab/authoring/workspace.py). JupyterLab serves only that folder.
WORK ?= my-work
# jupyter-config/ holds the course's JupyterLab defaults: no news prompt mid-lecture, scrolling RISE slides, a
# notebook's kernel shut down when its tab closes. jupyter-config/learner/ adds the learner's view: no nbgrader.
COURSE_CONFIG = $(CURDIR)/jupyter-config$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}
# `make lab LANG=zh-CN`: the Chinese edition (zh-CN/, README.zh-CN.md) with JupyterLab's own interface in Chinese,
# for this run only: jupyter-config/zh-CN/ sets the translation setting's default (a learner's own choice in
# Settings → Language still wins) and the server runs with LANG=C.UTF-8, a locale every system has. Only a LANG
# given on make's command line counts, never the shell's own LANG (en_US.UTF-8 and the like).
ifeq ($(origin LANG),command line)
EDITION := $(if $(filter zh-CN zh_CN zh,$(LANG)),zh-CN,$(if $(filter en en-US en_US,$(LANG)),,$(error LANG=$(LANG): the course comes in English (leave LANG out) and Chinese (LANG=zh-CN))))
endif
START := $(if $(EDITION),$(EDITION)/)notebooks/00-start-here.ipynb
EDITION_CONFIG := $(if $(EDITION),$(CURDIR)/jupyter-config/$(EDITION):)
LAB = $(VENV)/bin/jupyter lab --ip=127.0.0.1 --port=$(PORT) --LabApp.default_url=/lab/tree/$(START) $(ALLOW_ROOT)

lab: $(STAMP)
	@$(PY) -m logitlab.authoring.workspace prepare --work "$(WORK)"
	@# A copy made before the Chinese edition existed gets it now (as `make update` would bring it).
	@$(if $(EDITION),test -d "$(WORK)/$(EDITION)" || $(PY) -m logitlab.authoring.workspace update --work "$(WORK)")
	@echo "Starting JupyterLab on $(START) (Ctrl+C here stops it; open the address it prints if no browser tab opens)"
	@$(if $(EDITION),LANG=C.UTF-8 )JUPYTER_CONFIG_PATH="$(EDITION_CONFIG)$(CURDIR)/jupyter-config/learner:$(COURSE_CONFIG)" $(LAB) --ServerApp.root_dir="$(WORK)"

# The course's changes into the learner's copy: git pull (in a git checkout), then new and changed files copied in,
# never over a file the learner changed (that one gets the course's version beside it, NN-x.updated.ipynb).
update: $(STAMP)
	@if git rev-parse --abbrev-ref "@{upstream}" >/dev/null 2>&1; then \
		echo "Taking the course's changes (git pull)"; \
		git pull --ff-only || { echo "git could not pull the course (above). Your work in $(WORK)/ is not tracked by git; if git names files in notebooks/ or exercises/, git stash puts them aside and lets the pull through." >&2; exit 1; }; \
	else echo "Not a git checkout with a remote to pull from: taking the course files as they are in this folder"; \
	fi
	@$(PY) -m logitlab.authoring.workspace update --work "$(WORK)"

# An instructor's JupyterLab: the repository itself (solutions/, exercises/), with nbgrader's menus and panels.
instructor: $(STAMP)
	JUPYTER_CONFIG_PATH="$(COURSE_CONFIG)" $(LAB) --ServerApp.root_dir=.

# The same JupyterLab for teaching: every explorer drawn at projector size (logitlab/explorers/blitting.py, SIZES).
lecture: $(STAMP)
	LOGITLAB_SIZE=projector $(MAKE) --no-print-directory lab

# ruff first: a style slip is reported in a second, before the minutes of notebook tests.
lint: $(STAMP)
	$(VENV)/bin/ruff check --quiet --output-format=concise . || (echo "ruff found the problems above (rules in pyproject.toml [tool.ruff])" >&2; exit 1)

# The full suite CI runs. Each module stays on one worker; the browser modules share one (tests/conftest.py).
test: lint
	$(PY) -m pytest -n 3 --dist loadscope --no-loadscope-reorder --nbval --nbval-sanitize-with tests/sanitize.cfg -q

# The inner loop: everything that needs no kernel, no browser and no grading run (markers set in tests/conftest.py).
# pytest's cache is on: `$(PY) -m pytest --lf` reruns what failed last, `--sw` stops at the first failure and resumes.
test-fast: lint
	$(PY) -m pytest -n 2 --dist loadscope --no-loadscope-reorder -m "not kernel and not browser and not grading" -q tests

notebooks: $(STAMP)
	$(PY) -m logitlab notebooks $(NB)

# make bench SIZE=projector: the explorers drawn at lecture-hall size
SIZE ?= normal
bench: $(STAMP)
	$(PY) -m logitlab bench --size $(SIZE)

# Handouts: static reveal.js slides of every lesson, with the stored pictures, in slides/ (not in git); they work
# offline: reveal.js and MathJax come from npm once (.venv/handout-assets) and are copied to slides/assets/.
slides: $(STAMP)
	$(PY) -m logitlab slides $(NB)

# The course as a static website in _build/book/, from the stored outputs (nothing is executed; works offline).
book: $(STAMP)
	$(PY) -m logitlab book

check: $(STAMP)
	$(PY) -m logitlab check

# The Chinese edition: locale/zh_CN/ catalogs brought up to date with the English notebooks, zh-CN/ regenerated
# from them, the checks' messages compiled (logitlab/locale/). Translate in the .po files, then run this.
translate: $(STAMP)
	$(PY) -m logitlab translate

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

FORCE:
