"""Shared test fixtures. Under CI=true a skipped test fails the run: green must mean everything ran.

The browser tests (test_browser.py, test_slideshow.py, test_grading_class.py) share one harness: `serve_lab`
runs JupyterLab on a copy of the repository, `browser` is headless Chromium driven by Playwright's sync API.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import logitlab  # noqa: F401  first: its import sets TensorFlow's quiet, oneDNN-off settings for tests and kernels
from helpers import IN_CI, ROOT, free_port, require  # noqa: F401  (re-exported: older tests import them from here)


def chromium_path():
    """The system Chromium the browser tests drive, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
# Left out of the copy JupyterLab serves: big, generated, or private to this checkout.
NOT_SERVED = (".venv", ".git", "artifacts", "__pycache__", "slides", ".ipynb_checkpoints", "grading-out", "my-work")


# The modules that start JupyterLab and Chromium. `make test` runs them one after another on one pytest-xdist
# worker, never two JupyterLabs, two Chromiums and their kernels at once on two cores. (A file lock did the same
# but held its worker idle while the other ran a browser module.)
BROWSER_MODULES = ("test_browser.py", "test_slideshow.py", "test_book.py", "test_grading_class.py",
                   "test_learner_copy.py", "test_grading_report.py")
# What each module needs, for `-m "not browser"` and `make test-fast` (pyproject.toml lists the markers).
MODULE_MARKS = {
    "test_browser.py": ("browser", "kernel"),
    "test_slideshow.py": ("browser", "kernel"),
    "test_lab.py": ("kernel",),  # `make lab`: a JupyterLab server
    "test_grading.py": ("grading", "kernel"),  # nbgrader and the sandbox run each submission in a kernel
    "test_grading_sandbox.py": ("grading", "kernel"),
    "test_grading_class.py": ("browser", "grading", "kernel"),
    "test_grading_report.py": ("browser", "grading", "kernel"),
    "test_grading_dask.py": ("grading", "kernel"),  # a Dask scheduler and two workers grade in sandboxed kernels
    "test_learner_copy.py": ("browser", "kernel"),
    "test_book.py": ("browser",),  # builds the book and reads it in Chromium
}
# Fixtures that bring a cost with them, wherever they are used.
FIXTURE_MARKS = {"browser": ("browser", "kernel"), "tf": ("tensorflow",)}
# Tests that run notebooks in kernels inside an otherwise quick module.
KERNEL_TESTS = ("test_exercise_runs_to_the_end_and_reports_each_task_unanswered",)


def marks_for(item):
    """The markers of what a test needs: by its module, its fixtures, a notebook cell, TensorFlow in its module."""
    names = set(MODULE_MARKS.get(item.path.name, ()))
    for fixture in getattr(item, "fixturenames", ()):
        names.update(FIXTURE_MARKS.get(fixture, ()))
    if item.path.suffix == ".ipynb" or getattr(item, "originalname", None) in KERNEL_TESTS:
        names.add("kernel")  # nbval runs each notebook in a kernel
    if getattr(getattr(getattr(item, "module", None), "tf", None), "__name__", "") == "tensorflow":
        names.add("tensorflow")  # `tf = pytest.importorskip("tensorflow")` at the top of the module
    return names


def pytest_collection_modifyitems(config, items):
    """Mark each test by what it needs (pyproject.toml lists the markers)."""
    for item in items:
        for name in sorted(marks_for(item)):
            item.add_marker(name)


def pytest_xdist_make_scheduler(config, log):
    """Under `--dist loadscope`, put every browser module in one work unit, so one worker runs them in turn."""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BrowserModulesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            module = nodeid.split("::", 1)[0]
            return "browser modules" if module.rsplit("/", 1)[-1] in BROWSER_MODULES else super()._split_scope(nodeid)

    return BrowserModulesTogether(config, log)


@pytest.fixture(scope="module")
def browser(request):
    """Headless system Chromium driven by Playwright (its own browser download does not work here).

    Module scope, on purpose: between two calls Playwright's sync API leaves its asyncio loop marked as running
    in this thread (playwright/_impl/_greenlets.py, wait_for_future), so while it is alive a second
    sync_playwright() fails ("Playwright Sync API inside the asyncio loop") and asyncio code of other tests on the
    same worker (nbval's and nbclient's kernel clients) finds a running loop that is not theirs. Closed at the end
    of each browser module, it is never alive outside one, whichever modules pytest-xdist puts on a worker.
    """
    path = chromium_path()
    require(path, "Chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    if Path(request.module.__file__).name not in BROWSER_MODULES:
        pytest.fail(f"{request.module.__name__} uses the browser: add it to BROWSER_MODULES in tests/conftest.py")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def serve_lab(home, token, settings=None, **env):
    """JupyterLab on 127.0.0.1 serving a copy of the repository (so autosave never writes into the lessons), with
    the course's JupyterLab settings (jupyter-config/ on JUPYTER_CONFIG_PATH, as `make lab` starts it).

    `home` holds the copy (home/course), the user settings (`settings`: {"plugin/file.jupyterlab-settings":
    values}), workspaces, runtime files and the server log; `env` adds environment variables. Yields the base
    URL; on exit stops the server and every kernel it started.
    """
    served = home / "course"
    shutil.copytree(ROOT, served, ignore=shutil.ignore_patterns(*NOT_SERVED))
    for name, values in (settings or {}).items():
        plugin, file = name.rsplit("/", 1)
        (home / "settings" / plugin).mkdir(parents=True, exist_ok=True)
        (home / "settings" / plugin / file).write_text(json.dumps(values))
    port = free_port()
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTER_CONFIG_PATH=str(served / "jupyter-config"), BROWSER="true", **env)
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", "--LabApp.expose_app_in_browser=True",
         f"--ServerApp.root_dir={served}", "--allow-root"],
        cwd=served, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"JupyterLab did not start on port {port}:\n{(home / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def root():
    return ROOT


def pytest_sessionfinish(session, exitstatus):
    """Under CI=true, any skipped test (a missing tool, a stray skip marker) fails the run."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) were skipped; that fails CI", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
